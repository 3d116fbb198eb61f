// `nabla export <model.json> [--weights w.safetensors] --tfjs <dir> | --torch <model.py> | --onnx <model.onnx>`:
// the model for TensorFlow.js, PyTorch or ONNX Runtime.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InteropError } from '../interop/errors.ts';
import { exportOnnx, ONNX_OPSET } from '../interop/onnx-export.ts';
import { exportTfjs } from '../interop/tfjs-export.ts';
import { exportTorch } from '../interop/torch/export.ts';
import { weightsFromSafetensors, toWeights, type Weights } from '../interop/weights.ts';
import { interpret } from '../interpret/interpreter.ts';
import { parseSpec, SpecError, type ModelSpec } from '../model/spec.ts';
import { SafetensorsError } from '../../runtime/safetensors.ts';
import { parseCommand } from './args.ts';
import { CliError, UsageError, type Io } from './errors.ts';
import { readBytes, readJson, writeAtomic } from './files.ts';
import { usage } from './usage.ts';

/** Runs an export step, naming the spec file in the errors of the model it reports. */
function within<T>(path: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof InteropError || err instanceof SpecError || err instanceof SafetensorsError) throw new CliError(`${path}: ${err.message}`);
    throw err;
  }
}

export async function exportCommand(args: readonly string[], io: Io): Promise<void> {
  const flags = { weights: { type: 'string' }, tfjs: { type: 'string' }, torch: { type: 'string' }, onnx: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
  const parsed = parseCommand('export', args, flags, ['<model.json>']);
  if (parsed.help) return io.out(usage.export);
  const { values } = parsed;
  if (values.tfjs === undefined && values.torch === undefined && values.onnx === undefined) throw new UsageError('export: give --tfjs <dir>, --torch <model.py> or --onnx <model.onnx>', 'export');
  const path = parsed.positionals[0]!;
  const spec: ModelSpec = within(path, () => parseSpec(readJson(path)));
  let weights: Weights | undefined;
  const weightsOf = (): Weights => {
    if (weights !== undefined) return weights;
    if (values.weights !== undefined) {
      const file = values.weights;
      weights = within(file, () => weightsFromSafetensors(readBytes(file)));
    } else {
      io.err(`note: no --weights: exporting the spec's initial weights (seed ${spec.seed})`);
      weights = toWeights(interpret(spec).getWeights());
    }
    return weights;
  };

  if (values.tfjs !== undefined) {
    const dir = values.tfjs;
    const model = within(path, () => exportTfjs(spec, weightsOf()));
    mkdirSync(dir, { recursive: true });
    writeAtomic(join(dir, 'weights.bin'), model.weightData);
    writeAtomic(join(dir, 'model.json'), new TextEncoder().encode(`${JSON.stringify(model.modelJson)}\n`));
    io.out(`TensorFlow.js  ${join(dir, 'model.json')} + weights.bin (${model.weightData.length.toLocaleString('en-US')} bytes)`);
  }
  if (values.torch !== undefined) {
    writeAtomic(values.torch, new TextEncoder().encode(within(path, () => exportTorch(spec))));
    io.out(`PyTorch        ${values.torch} (class Model; load_weights(model, '<weights>.safetensors'))`);
  }
  if (values.onnx !== undefined) {
    const bytes = within(path, () => exportOnnx(spec, weightsOf()));
    writeAtomic(values.onnx, bytes);
    io.out(`ONNX           ${values.onnx} (opset ${ONNX_OPSET}, ${bytes.length.toLocaleString('en-US')} bytes)`);
  }
}
