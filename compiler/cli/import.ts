// `nabla import <model.json> -o <spec.json> [--weights <out.safetensors>]`: a Keras or
// TensorFlow.js model as a nabla spec and safetensors weights.
import { dirname, join } from 'node:path';
import { importKerasModel, artifactsFromModelJson, type ImportOptions } from '../interop/import.ts';
import { InteropError } from '../interop/errors.ts';
import { weightsToSafetensors } from '../interop/weights.ts';
import { lossNames } from '../model/losses.ts';
import { optimizerNames } from '../optim/spec.ts';
import { SpecError } from '../model/spec.ts';
import { parseCommand, positiveInt } from './args.ts';
import { CliError, UsageError, type Io } from './errors.ts';
import { readBytes, readJson, writeAtomic } from './files.ts';
import { usage } from './usage.ts';

function choice<T extends string>(flag: string, value: string | undefined, names: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(names as readonly string[]).includes(value)) throw new UsageError(`${flag}: expected one of ${names.join(', ')}, got '${value}'`, 'import');
  return value as T;
}

export async function importCommand(args: readonly string[], io: Io): Promise<void> {
  const flags = {
    output: { type: 'string', short: 'o' },
    weights: { type: 'string' },
    loss: { type: 'string' },
    optimizer: { type: 'string' },
    'batch-size': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  const parsed = parseCommand('import', args, flags, ['<model.json>']);
  if (parsed.help) return io.out(usage.import);
  const { values } = parsed;
  if (values.output === undefined) throw new UsageError('import: missing -o <spec.json>', 'import');
  const path = parsed.positionals[0]!;
  const loss = choice('--loss', values.loss, lossNames);
  const optimizer = choice('--optimizer', values.optimizer, optimizerNames);
  const batchSize = positiveInt('--batch-size', values['batch-size'], 'import');
  const options: ImportOptions = { ...(loss ? { loss: { type: loss } } : {}), ...(optimizer ? { optimizer: { type: optimizer } } : {}), ...(batchSize ? { batchSize } : {}) };

  const json = readJson(path);
  const isTfjs = typeof json === 'object' && json !== null && 'modelTopology' in json;
  let result;
  try {
    // Weight shards are named relative to model.json.
    const source = isTfjs ? artifactsFromModelJson(json, (shard) => readBytes(join(dirname(path), decodeURIComponent(shard)))) : json;
    result = importKerasModel(source, options);
  } catch (err) {
    if (err instanceof InteropError || err instanceof SpecError) throw new CliError(`${path}: ${err.message}`);
    throw err;
  }
  if (values.weights !== undefined && result.weights === null) {
    throw new CliError(`${path}: a Keras config has no weights to write to ${values.weights}; import a TensorFlow.js model.json with its shards for weights`);
  }
  writeAtomic(values.output, new TextEncoder().encode(`${JSON.stringify(result.spec, null, 2)}\n`));
  if (values.weights !== undefined) writeAtomic(values.weights, weightsToSafetensors(result.weights!));
  for (const note of result.notes) io.err(`note: ${note}`);
  const spec = result.spec as { readonly layers?: readonly unknown[]; readonly nodes?: readonly unknown[] };
  io.out(`imported ${path} → ${values.output}${values.weights !== undefined ? ` and ${values.weights}` : ''}`);
  io.out(`  ${spec.layers ? `Sequential, ${spec.layers.length} layers` : `graph, ${spec.nodes!.length} nodes`}${result.weights ? `, ${result.weights.size} weight tensors` : ', no weights'}`);
}
