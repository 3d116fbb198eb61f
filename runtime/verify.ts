// A trainer's manifest checked against its module before anything runs. The runtime trusts the
// manifest for every view it makes into memory and every row count it passes: a batch size of 0
// would make predict() loop for ever, an offset past the memory a raw RangeError, two aliased
// buffers silently wrong results. So every field the runtime uses is checked here — types,
// sizes against shapes and batch size, offsets inside the memory, host buffers disjoint, the
// ABI's exports present, no imports — and a tampered or damaged file is a ManifestError that
// says which field is wrong.
import { canonicalJson } from './canonical_json.ts';
import { sha256Hex } from './hash.ts';
import { product } from './tensor.ts';
import { ManifestError, RELAXED_SECTION, type Manifest, type Placed, type TensorSpec } from './manifest.ts';

/** The exports nabla's runtime calls, and the memory. */
const REQUIRED_FUNCTIONS = ['init', 'predict', 'evaluate', 'gradients', 'train_step'] as const;

function fail(message: string): never {
  throw new ManifestError(`manifest does not match the module: ${message}`);
}

/** The first arena byte: offset 0 stays unused (compiler/codegen/plan.ts). */
const ARENA_START = 64;

const isCount = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** What a threaded build exports beyond the ABI (compiler/codegen/threaded.ts). */
const THREADED_FUNCTIONS = ['worker_loop', 'worker_failed', 'threads_failed', 'threads_ready', 'threads_configure', 'threads_stop'] as const;

/**
 * The module's own interface: nothing imported (a threaded build: its shared memory alone, as
 * `env.memory`), the ABI's functions and memory exported.
 */
export function verifyModule(module: WebAssembly.Module, manifest: Manifest): void {
  const imports = WebAssembly.Module.imports(module);
  const isMemory = (i: WebAssembly.ModuleImportDescriptor): boolean => i.module === 'env' && i.name === 'memory' && i.kind === 'memory';
  const foreign = manifest.threads ? imports.filter((i) => !isMemory(i)) : imports;
  const what = manifest.threads ? 'a threaded nabla trainer imports its shared memory (env.memory) alone' : 'a nabla trainer imports nothing';
  if (foreign.length) fail(`the module imports ${foreign.map((i) => `${i.module}.${i.name} (${i.kind})`).join(', ')}; ${what}`);
  if (manifest.threads && imports.length !== 1) fail(`the manifest describes a threaded build, but the module does not import its memory as env.memory`);
  const exports = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  if (exports.get('memory') !== 'memory') fail(`the module does not export its memory as 'memory'`);
  const wanted: string[] = [...REQUIRED_FUNCTIONS, ...(manifest.threads ? THREADED_FUNCTIONS : [])];
  if (manifest.exports?.trainStepChecked !== undefined) wanted.push('train_step_checked');
  const missing = wanted.filter((name) => exports.get(name) !== 'function');
  if (missing.length) fail(`the module does not export function(s) ${missing.map((m) => `'${m}'`).join(', ')}`);
}

function width(spec: TensorSpec, where: string): number {
  if (typeof spec !== 'object' || spec === null || !Array.isArray(spec.shape)) fail(`${where}.shape is missing`);
  if (spec.shape[0] !== 'N') fail(`${where}.shape ${JSON.stringify(spec.shape)} does not start with the batch dimension "N"`);
  const rest = spec.shape.slice(1);
  if (!rest.every((d) => isCount(d, 1))) fail(`${where}.shape ${JSON.stringify(spec.shape)}: sizes after "N" must be positive integers`);
  if (spec.dtype !== 'f32' && spec.dtype !== 'i32') fail(`${where}.dtype ${JSON.stringify(spec.dtype)} is not "f32" or "i32"`);
  if (spec.idBound !== undefined && (spec.dtype !== 'i32' || !isCount(spec.idBound, 1))) fail(`${where}.idBound ${JSON.stringify(spec.idBound)} is not a positive integer bound of i32 ids`);
  return product(rest as number[]);
}

interface Region {
  readonly where: string;
  readonly offset: number;
  readonly bytes: number;
}

/**
 * Every field the runtime relies on, against the instantiated memory's size. `memoryBytes` is
 * the memory's byte length (the trainer never grows it).
 */
export function verifyManifest(m: Manifest, memoryBytes: number): void {
  if (!isCount(m.batchSize, 1) || m.batchSize > 65536) fail(`batchSize ${JSON.stringify(m.batchSize)} is not an integer in [1, 65536]`);
  if (!isCount(m.seed) || m.seed > 0xffffffff) fail(`seed ${JSON.stringify(m.seed)} is not an integer in [0, 2^32)`);
  const pages = m.memory?.pages;
  if (!isCount(pages, 1) || pages * 65536 !== memoryBytes) fail(`memory.pages ${JSON.stringify(pages)} is not the module's ${memoryBytes / 65536} pages`);
  if (!isCount(m.memory.arenaBytes) || m.memory.arenaBytes > memoryBytes) fail(`memory.arenaBytes ${JSON.stringify(m.memory.arenaBytes)} is not a size within the ${memoryBytes}-byte memory`);
  const b = m.buffers;
  if (typeof b !== 'object' || b === null) fail('buffers is missing');
  for (const list of ['inputs', 'targets', 'predictions', 'losses', 'params', 'grads', 'state'] as const) {
    if (!Array.isArray(b[list])) fail(`buffers.${list} is not a list`);
  }
  if (!Array.isArray(m.inputs) || m.inputs.length === 0) fail('inputs is empty');
  if (!Array.isArray(m.outputs) || m.outputs.length === 0) fail('outputs is empty');
  if (!Array.isArray(m.params)) fail('params is not a list');

  const regions: Region[] = [];
  /** A buffer of `expected` bytes (or at least `min` bytes) inside the memory, 4-byte aligned; it must not overlap another. */
  const place = (p: Placed | undefined, where: string, expected: number | null, min = 0): void => {
    if (typeof p !== 'object' || p === null) fail(`${where} is missing`);
    if (!isCount(p.offset) || !isCount(p.bytes)) fail(`${where}: offset ${JSON.stringify(p.offset)} and bytes ${JSON.stringify(p.bytes)} must be non-negative integers`);
    if (p.offset % 4 !== 0 || p.bytes % 4 !== 0) fail(`${where}: offset ${p.offset} and bytes ${p.bytes} must be multiples of 4`);
    if (expected !== null && p.bytes !== expected) fail(`${where} has ${p.bytes} bytes, expected ${expected}`);
    if (p.bytes < min) fail(`${where} has ${p.bytes} bytes, expected at least ${min}`);
    if (p.offset + p.bytes > memoryBytes) fail(`${where} [${p.offset}, ${p.offset + p.bytes}) runs past the end of the ${memoryBytes}-byte memory`);
    // The planned tensors lie in the arena, [64, arenaBytes); the guard and telemetry blocks after it.
    const outside = where === 'buffers.guard' || where === 'diagnostics';
    if (!outside && (p.offset < ARENA_START || p.offset + p.bytes > m.memory.arenaBytes)) {
      fail(`${where} [${p.offset}, ${p.offset + p.bytes}) lies outside the arena [${ARENA_START}, ${m.memory.arenaBytes})`);
    }
    if (outside && p.offset < m.memory.arenaBytes) fail(`${where} at ${p.offset} lies inside the arena, which ends at ${m.memory.arenaBytes}`);
    regions.push({ where, offset: p.offset, bytes: p.bytes });
  };

  const B = m.batchSize;
  if (b.inputs.length !== m.inputs.length) fail(`buffers.inputs has ${b.inputs.length} entries for ${m.inputs.length} inputs`);
  m.inputs.forEach((t, k) => place(b.inputs[k], `buffers.inputs[${k}] ('${t.name}')`, 4 * B * width(t, `inputs[${k}]`)));
  for (const list of ['targets', 'predictions', 'losses'] as const) {
    if (b[list].length !== m.outputs.length) fail(`buffers.${list} has ${b[list].length} entries for ${m.outputs.length} outputs`);
  }
  m.outputs.forEach((o, k) => {
    if (typeof o !== 'object' || o === null) fail(`outputs[${k}] is not an object`);
    const predictionWidth = width(o.prediction, `outputs[${k}].prediction`);
    if (o.prediction.shape.length !== 2 && o.prediction.shape.length !== 3) fail(`outputs[${k}].prediction.shape ${JSON.stringify(o.prediction.shape)} is neither ["N", width] nor ["N", steps, width]`);
    place(b.targets[k], `buffers.targets[${k}] ('${o.name}')`, 4 * B * width(o.labels, `outputs[${k}].labels`));
    place(b.predictions[k], `buffers.predictions[${k}] ('${o.name}')`, 4 * B * predictionWidth);
    place(b.losses[k], `buffers.losses[${k}] ('${o.name}')`, null, 4);
  });
  // With one output the model's loss is that output's loss buffer; with several, a buffer of its own.
  if (m.outputs.length > 1) place(b.loss, 'buffers.loss', null, 4);

  if (b.params.length !== m.params.length) fail(`buffers.params has ${b.params.length} entries for ${m.params.length} parameters`);
  const paramBytes = new Map<string, number>();
  m.params.forEach((p, k) => {
    const shape: unknown = p.shape;
    if (!Array.isArray(shape) || !shape.every((d) => isCount(d, 1))) fail(`params[${k}] ('${p.name}'): shape ${JSON.stringify(p.shape)} is not a list of positive integers`);
    if (b.params[k]?.name !== p.name) fail(`buffers.params[${k}] is '${b.params[k]?.name}', expected '${p.name}' (the order of params)`);
    const bytes = 4 * product(shape as number[]);
    paramBytes.set(p.name, bytes);
    place(b.params[k], `buffers.params[${k}] ('${p.name}')`, bytes);
  });
  b.grads.forEach((g, k) => {
    if (!paramBytes.has(g.name)) fail(`buffers.grads[${k}] names '${g.name}', which is not a parameter`);
    place(g, `buffers.grads[${k}] ('${g.name}')`, paramBytes.get(g.name)!);
  });
  b.state.forEach((s, k) => place(s, `buffers.state[${k}] ('${s.name}')`, null));
  (m.hyperparameters ?? []).forEach((h, k) => {
    const held = b.state.find((s) => s.name === h.state);
    if (!held || held.bytes !== 4 || held.dtype !== undefined) fail(`hyperparameters[${k}] ('${h.name}') names state '${h.state}', which is not a scalar f32 of buffers.state`);
  });
  if (b.guard !== undefined) {
    place(b.guard, 'buffers.guard', null, 4 + 4 * b.grads.length);
    if (!Array.isArray(m.guard?.checks) || m.guard.checks.length === 0) fail('buffers.guard is given but guard.checks is not a list of tensors');
  }
  if (m.diagnostics !== undefined) place({ name: 'diagnostics', offset: m.diagnostics.offset, bytes: m.diagnostics.bytes }, 'diagnostics', null);

  // Host-visible buffers may not share bytes (each was placed once; the aliases below are checked apart).
  const sorted = regions.filter((r) => r.bytes > 0).sort((a, c) => a.offset - c.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const next = sorted[i]!;
    if (next.offset < prev.offset + prev.bytes) fail(`${prev.where} [${prev.offset}, ${prev.offset + prev.bytes}) and ${next.where} [${next.offset}, ${next.offset + next.bytes}) overlap`);
  }
  // The aliases must be their lists' first entries.
  const same = (a: Placed | undefined, c: Placed | undefined, what: string): void => {
    if (a?.offset !== c?.offset || a?.bytes !== c?.bytes) fail(`buffers.${what} is not the first entry of its list`);
  };
  same(b.input, b.inputs[0], 'input');
  same(b.labels, b.targets[0], 'labels');
  same(b.prediction, b.predictions[0], 'prediction');
  if (m.outputs.length === 1) same(b.loss, b.losses[0], 'loss');
}

/**
 * The relaxed-SIMD build a baseline trainer carries must be the same model: its bytes hash to the
 * manifest's `relaxedSha256` (when the trainer has one) and its manifest is the baseline's but
 * for `simd`. Otherwise another model's build, under this one's manifest, would run.
 */
export async function verifyRelaxed(baseline: Manifest, bytes: Uint8Array, relaxed: Manifest | null): Promise<void> {
  const expected = baseline.relaxedSha256;
  if (expected !== undefined) {
    const actual = await sha256Hex(bytes);
    if (actual !== expected) {
      throw new ManifestError(`the relaxed-SIMD build (section '${RELAXED_SECTION}') has SHA-256 ${actual}, but the manifest's relaxedSha256 is ${expected}: the file was altered`);
    }
  }
  if (relaxed === null) return;
  if (strip(relaxed) !== strip(baseline)) throw new ManifestError(`the relaxed-SIMD build (section '${RELAXED_SECTION}') carries a different manifest from the baseline build: it is not the same model`);
}

/** A manifest without what differs between the builds of one trainer. */
const strip = (m: Manifest): string => canonicalJson({ ...m, simd: undefined, relaxedSha256: undefined, threadedSha256: undefined, threads: undefined });

/**
 * A threaded build a trainer carries (section `section`) must be the same model: its bytes hash
 * to the manifest's `threadedSha256` entry, and its manifest is the baseline's but for the
 * builds' own fields, with its `threads` block after the arena.
 */
export async function verifyThreaded(baseline: Manifest, section: string, expectedSha256: string, bytes: Uint8Array, threaded: Manifest | null): Promise<void> {
  const actual = await sha256Hex(bytes);
  if (actual !== expectedSha256) throw new ManifestError(`the threaded build (section '${section}') has SHA-256 ${actual}, but the manifest's threadedSha256 gives ${expectedSha256}: the file was altered`);
  if (threaded === null) return;
  if (strip(threaded) !== strip(baseline)) throw new ManifestError(`the threaded build (section '${section}') carries a different manifest from the baseline build: it is not the same model`);
  const t = threaded.threads;
  if (!t || !isCount(t.offset) || t.offset % 64 !== 0 || !isCount(t.bytes, 64) || t.offset < threaded.memory.arenaBytes || t.offset + t.bytes > threaded.memory.pages * 65536 || !isCount(t.largestProduct) || !isCount(t.partedProducts) || (t.partedKernels !== undefined && !isCount(t.partedKernels)) || !isCount(t.minPartWork, 1)) {
    throw new ManifestError(`the threaded build (section '${section}') has no valid threads block after its arena: ${JSON.stringify(t)}`);
  }
}
