// `nabla inspect <file.wasm> [--json]`: everything a host needs to know about a trainer.
import { readManifest, type Manifest } from '../../runtime/manifest.ts';
import { parseCommand } from './args.ts';
import { CliError, type Io } from './errors.ts';
import { readBytes } from './files.ts';
import { bytesText, paramCount, table, tensorText } from './format.ts';
import { usage } from './usage.ts';

export interface Inspection {
  readonly manifest: Manifest;
  readonly size: number;
  readonly imports: readonly WebAssembly.ModuleImportDescriptor[];
  readonly exports: readonly WebAssembly.ModuleExportDescriptor[];
}

export function inspectWasm(bytes: Uint8Array<ArrayBuffer>, source: string): Inspection {
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (err) {
    throw new CliError(`${source}: not a valid WebAssembly module (${(err as Error).message})`);
  }
  let manifest: Manifest;
  try {
    manifest = readManifest(module);
  } catch (err) {
    throw new CliError(`${source}: ${(err as Error).message}`);
  }
  return { manifest, size: bytes.length, imports: WebAssembly.Module.imports(module), exports: WebAssembly.Module.exports(module) };
}

function initializerText(init: { readonly type: string; readonly value?: number }): string {
  return init.value === undefined ? init.type : `${init.type}(${init.value})`;
}

/** The human-readable report, line by line. */
export function describeTrainer({ manifest: m, size, imports, exports }: Inspection): string[] {
  const offsets = new Map(m.buffers.params.map((p) => [p.name, p]));
  const loss = m.loss;
  const lossText = [loss.type, loss.weight !== 1 ? `weight ${loss.weight}` : '', loss.fromLogits ? 'from logits' : ''].filter(Boolean).join(', ');
  return [
    `model         ${m.model}`,
    `nabla         ${m.nablaVersion} (ABI ${m.abiVersion}, format ${m.format}, simd ${m.simd})`,
    `batch size    ${m.batchSize} (calls take 1..${m.batchSize} rows)`,
    `seed          ${m.seed}`,
    `input         ${tensorText(m.input)}`,
    `labels        ${tensorText(m.labels)}`,
    `prediction    ${tensorText(m.prediction)}`,
    `parameters    ${paramCount(m).toLocaleString('en-US')} in ${m.params.length} tensors`,
    ...table([
      ['name', 'shape', 'initializer', 'count', 'offset'],
      ...m.params.map((p) => [
        p.name,
        `[${p.shape.join(', ')}]`,
        initializerText(p.initializer),
        String(p.shape.reduce((a, b) => a * b, 1)),
        String(offsets.get(p.name)?.offset ?? '?'),
      ]),
    ], '    '),
    `loss          ${lossText}`,
    `optimizer     ${m.optimizer.type}, learning rate ${m.optimizer.learningRate}`,
    `memory        arena ${bytesText(m.memory.arenaBytes)}; ${m.memory.pages} pages of 64 KiB`,
    `guard         ${m.guard ? `${m.exports.trainStepChecked} checks ${m.guard.checks.length} tensors (loss, gradients, new weights)` : 'none (compiled before the non-finite guard)'}`,
    `telemetry     ${m.diagnostics ? `compiled in: ${m.diagnostics.params.length} parameters, ${m.diagnostics.layers.length} layers` : 'off (compile with diagnostics to add it)'}`,
    `wasm size     ${bytesText(size)}`,
    `imports       ${imports.length}${imports.length ? `: ${imports.map((i) => `${i.module}.${i.name}`).join(', ')}` : ''}`,
    `exports       ${exports.map((e) => (e.kind === 'function' ? e.name : `${e.name} (${e.kind})`)).join(', ')}`,
  ];
}

export async function inspectCommand(args: readonly string[], io: Io): Promise<void> {
  const parsed = parseCommand('inspect', args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, ['<file.wasm>']);
  if (parsed.help) return io.out(usage.inspect);
  const path = parsed.positionals[0]!;
  const inspection = inspectWasm(readBytes(path), path);
  if (parsed.values.json) return io.out(JSON.stringify(inspection.manifest, null, 2));
  for (const line of describeTrainer(inspection)) io.out(line);
}
