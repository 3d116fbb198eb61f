// `nabla inspect <file.wasm> [--json]`: everything a host needs to know about a trainer.
import { RELAXED_SECTION, THREADED_RELAXED_SECTION, THREADED_SECTION, readManifest, type Manifest } from '../../runtime/manifest.ts';
import { parseCommand } from './args.ts';
import { CliError, type Io } from './errors.ts';
import { readBytes } from './files.ts';
import { bytesText, paramCount, table, tensorText } from './format.ts';
import { usage } from './usage.ts';
import { formatSummary, summarize } from '../model/summary.ts';

export interface Inspection {
  readonly manifest: Manifest;
  readonly size: number;
  readonly imports: readonly WebAssembly.ModuleImportDescriptor[];
  readonly exports: readonly WebAssembly.ModuleExportDescriptor[];
  /** Size of the embedded relaxed-SIMD build, if the trainer carries one. */
  readonly relaxedBytes?: number;
  /** Sizes of the embedded threaded builds (baseline, relaxed), if the trainer carries them. */
  readonly threadedBytes?: readonly number[];
  /** What the threaded builds split (their manifest's `threads`), where this host compiles them. */
  readonly threads?: NonNullable<Manifest['threads']>;
}

/** The threaded baseline build's `threads` block, or undefined where the host cannot compile it (no threads feature). */
function threadedBlock(module: WebAssembly.Module): Manifest['threads'] {
  const [bytes] = WebAssembly.Module.customSections(module, THREADED_SECTION);
  if (!bytes) return undefined;
  try {
    return readManifest(new WebAssembly.Module(bytes)).threads;
  } catch {
    return undefined;
  }
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
  const [relaxed] = WebAssembly.Module.customSections(module, RELAXED_SECTION);
  const threaded = [THREADED_SECTION, THREADED_RELAXED_SECTION].flatMap((name) => WebAssembly.Module.customSections(module, name).map((s) => s.byteLength));
  const threads = threadedBlock(module);
  return {
    manifest,
    size: bytes.length,
    imports: WebAssembly.Module.imports(module),
    exports: WebAssembly.Module.exports(module),
    ...(relaxed ? { relaxedBytes: relaxed.byteLength } : {}),
    ...(threaded.length ? { threadedBytes: threaded } : {}),
    ...(threads ? { threads } : {}),
  };
}

/** The threads line: the threaded builds, what they split, and whether threads gain anything for this model. */
function threadsText(threadedBytes: readonly number[] | undefined, t: Inspection['threads'], batchSize: number): string {
  if (!threadedBytes) return 'one (compile with --threaded to add threaded builds)';
  const builds = `threaded builds of ${threadedBytes.map(bytesText).join(' and ')} (loadTrainer(bytes, { threads }))`;
  if (!t) return builds;
  const others = (t.partedKernels ?? t.partedProducts) - t.partedProducts;
  const also = others > 0 ? ` and ${others} other kernel${others === 1 ? '' : 's'}` : '';
  const split = `${t.partedProducts} products${also} run in parts, the largest product ${t.largestProduct.toLocaleString('en-US')} multiply-adds at batch ${batchSize}`;
  const gain = t.largestProduct < 2 * t.minPartWork ? `; below two parts of ${t.minPartWork.toLocaleString('en-US')}, so loadTrainer keeps one thread` : '';
  return `${builds}: ${split}${gain}`;
}

function initializerText(init: { readonly type: string; readonly [option: string]: unknown }): string {
  const options = Object.entries(init).filter(([k, v]) => k !== 'type' && v !== undefined);
  return options.length === 0 ? init.type : `${init.type}(${options.map(([k, v]) => (k === 'value' ? String(v) : `${k}=${String(v)}`)).join(', ')})`;
}

/** The human-readable report, line by line. */
export function describeTrainer({ manifest: m, size, imports, exports, relaxedBytes, threadedBytes, threads }: Inspection): string[] {
  const offsets = new Map(m.buffers.params.map((p) => [p.name, p]));
  const loss = m.loss;
  const lossText = [
    loss.type,
    loss.weight !== 1 ? `weight ${loss.weight}` : '',
    loss.fromLogits ? 'from logits' : '',
    loss.delta !== undefined ? `delta ${loss.delta}` : '',
    loss.reduction === 'sum' ? 'sum over rows' : '',
  ]
    .filter(Boolean)
    .join(', ');
  const { type: _type, learningRate, ...options } = m.optimizer;
  const optimizerOptions = Object.entries(options).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return [
    `model         ${m.model}`,
    `nabla         ${m.nablaVersion} (ABI ${m.abiVersion}, format ${m.format}, simd ${m.simd}${relaxedBytes ? ` + relaxed-SIMD build of ${bytesText(relaxedBytes)}` : ''})`,
    `threads       ${threadsText(threadedBytes, threads, m.batchSize)}`,
    `batch size    ${m.batchSize} (calls take 1..${m.batchSize} rows)`,
    `seed          ${m.seed}`,
    ...(m.inputs.length === 1 && m.outputs.length === 1
      ? [`input         ${tensorText(m.input)}`, `labels        ${tensorText(m.labels)}`, `prediction    ${tensorText(m.prediction)}`]
      : [
          ...m.inputs.map((t) => `input         ${tensorText(t)}`),
          ...m.outputs.map((o) => `output        ${o.name}: ${tensorText(o.prediction)}, targets ${tensorText(o.labels)}, ${o.loss.type} × ${o.lossWeight}`),
        ]),
    `layers`,
    ...formatSummary(summarize(m.spec)).map((l) => `    ${l}`),
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
    `optimizer     ${[m.optimizer.type, `learning rate ${learningRate}`, ...optimizerOptions].join(', ')}`,
    `memory        arena ${bytesText(m.memory.arenaBytes)}; ${m.memory.pages} pages of 64 KiB`,
    ...(m.memory.peakBytes === undefined ? [] : [`memory plan   peak ${bytesText(m.memory.peakBytes)} live (${bytesText(m.memory.unsharedBytes ?? 0)} with one buffer per tensor)`]),
    ...(m.memory.minimumBytes === undefined ? [] : [`memory floor  ${bytesText(m.memory.minimumBytes)}: parameters + gradients + optimizer state + peak live activations`]),
    `guard         ${m.guard ? `${m.exports.trainStepChecked} checks ${m.guard.checks.length} tensors (loss, gradients, new weights and state)` : 'none (compiled before the non-finite guard)'}`,
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
