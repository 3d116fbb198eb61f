// The compiled trainer: a .wasm instantiated with no imports, driven through its C-like ABI at
// the offsets its manifest gives. Web-standard APIs only: this file runs in any wasm host. With
// `threads`, the trainer's threaded build runs instead, on a shared memory, with worker threads
// (worker_pool.ts) that run parts of its large products.
import { ManifestError, RELAXED_SECTION, THREADED_RELAXED_SECTION, THREADED_SECTION, readManifest, type Manifest, type Placed } from './manifest.ts';
import type { Batch, BatchEngine, BatchResult } from './engine.ts';
import { gatherRows, type RowData, type Rows } from './data.ts';
import { ModelRunner } from './runner.ts';
import { readDiagnostics, type Diagnostics } from './diagnostics.ts';
import { verifyManifest, verifyModule, verifyRelaxed, verifyThreaded } from './verify.ts';
import { availableCores, reportingWorkerFailures, threadSupport, WorkerPool, type ThreadedExports } from './worker_pool.ts';
import { rowWidth } from './tensor.ts';

interface TrainerExports {
  readonly memory: WebAssembly.Memory;
  init(seed: number): void;
  predict(n: number): number;
  evaluate(n: number): number;
  gradients(n: number): number;
  train_step(n: number): number;
  /** Absent in trainers compiled before the non-finite guard. */
  train_step_checked?(n: number): number;
}

/** Zero-copy views into the trainer's memory. They stay valid: a trainer never grows its memory. */
export interface TrainerViews {
  /** The first input, targets and prediction (all there is to a single-input, single-output model). */
  /** An Int32Array for an input of token ids (dtype i32). */
  readonly input: Float32Array | Int32Array;
  readonly labels: Float32Array | Int32Array;
  readonly prediction: Float32Array;
  /** Every input by name; every output's targets and prediction by output name. */
  readonly inputs: Readonly<Record<string, Float32Array | Int32Array>>;
  readonly targets: Readonly<Record<string, Float32Array | Int32Array>>;
  readonly predictions: Readonly<Record<string, Float32Array>>;
  readonly params: Readonly<Record<string, Float32Array>>;
  readonly grads: Readonly<Record<string, Float32Array>>;
  /** Optimizer state by name (manifest `buffers.state`); the step counter `optimizer:step` is a Uint32Array. */
  readonly state: Readonly<Record<string, Float32Array | Uint32Array>>;
}

class WasmEngine implements BatchEngine<Float32Array> {
  readonly precision = 'float32';
  readonly views: TrainerViews;
  private readonly x: readonly (Float32Array | Int32Array)[];
  private readonly y: readonly (Float32Array | Int32Array)[];
  private readonly out: readonly { readonly view: Float32Array; readonly width: number }[];
  private readonly losses: readonly Float32Array[];
  /** Every output's whole prediction buffer: the predictions of a full batch, without a view per step. */
  private readonly fullPredictions: readonly Float32Array[];
  /** The guard's status word (buffers.guard), where the trainer has the guarded step. */
  private readonly guardStatus: Int32Array | null;
  /** Guarded steps that completed: the guard's norms are meaningful once there is one. */
  private finiteSteps = 0;

  constructor(
    readonly manifest: Manifest,
    private readonly exports: TrainerExports,
  ) {
    const buffer = exports.memory.buffer;
    const f32 = (p: Placed): Float32Array => new Float32Array(buffer, p.offset, p.bytes / 4);
    const b = manifest.buffers;
    const { inputs, outputs } = manifest;
    this.x = b.inputs.map((p, k) => (inputs[k]!.dtype === 'i32' ? new Int32Array(buffer, p.offset, p.bytes / 4) : f32(p)));
    this.y = b.targets.map((p, k) => (outputs[k]!.labels.dtype === 'i32' ? new Int32Array(buffer, p.offset, p.bytes / 4) : f32(p)));
    this.out = b.predictions.map((p, k) => ({ view: f32(p), width: rowWidth(outputs[k]!.prediction.shape) }));
    this.losses = outputs.length > 1 ? b.losses.map(f32) : [];
    this.fullPredictions = this.out.map((o) => o.view.subarray(0, manifest.batchSize * o.width));
    this.guardStatus = b.guard && exports.train_step_checked ? new Int32Array(buffer, b.guard.offset, 1) : null;
    this.views = {
      input: this.x[0]!,
      labels: this.y[0]!,
      prediction: this.out[0]!.view,
      inputs: Object.fromEntries(inputs.map((t, k) => [t.name, this.x[k]!])),
      targets: Object.fromEntries(outputs.map((o, k) => [o.name, this.y[k]!])),
      predictions: Object.fromEntries(outputs.map((o, k) => [o.name, this.out[k]!.view])),
      params: Object.fromEntries(b.params.map((p) => [p.name, f32(p)])),
      grads: Object.fromEntries(b.grads.map((p) => [p.name, f32(p)])),
      state: Object.fromEntries(b.state.map((p) => [p.name, p.dtype === 'u32' ? new Uint32Array(buffer, p.offset, p.bytes / 4) : f32(p)])),
    };
  }

  get signature(): Manifest {
    return this.manifest;
  }

  init(seed: number): void {
    this.exports.init(seed >>> 0);
    this.forgetSteps();
  }

  /** The guard's norms and the telemetry block describe steps of weights that were just replaced. */
  forgetSteps(): void {
    this.finiteSteps = 0;
  }

  readParam(name: string): Float32Array {
    return this.views.params[name]!.slice();
  }

  writeParams(values: ReadonlyMap<string, Float64Array>): void {
    // checkWeights has checked every tensor; this re-check of the sizes keeps a write all-or-nothing even so.
    for (const [name, data] of values) {
      const view = this.views.params[name];
      if (!view || view.length !== data.length) throw new Error(`internal: weights '${name}' have ${data.length} values for a buffer of ${view?.length ?? 0}`);
    }
    for (const [name, data] of values) this.views.params[name]!.set(data);
    this.forgetSteps();
  }

  readState(name: string): number {
    return this.views.state[name]![0]!;
  }

  writeState(name: string, value: number): void {
    this.views.state[name]![0] = value;
  }

  /** Rows [start, start+n) of every input (and target), in `order` where given, copied straight into the trainer's buffers. */
  private feed(x: readonly Rows[], y: readonly Rows[] | null, start: number, n: number, order?: Uint32Array): void {
    for (let k = 0; k < x.length; k++) gatherRows(x[k]!, start, n, order, this.x[k]!);
    if (y) for (let k = 0; k < y.length; k++) gatherRows(y[k]!, start, n, order, this.y[k]!);
  }

  holds(data: RowData): boolean {
    return data.buffer === this.exports.memory.buffer;
  }

  /** Views of the n rows each output computed: valid until the next call, which overwrites them. */
  private predictions(n: number): readonly Float32Array[] {
    return n === this.manifest.batchSize ? this.fullPredictions : this.out.map((o) => o.view.subarray(0, n * o.width));
  }

  trainBatch(data: Batch, start: number, n: number, order?: Uint32Array): BatchResult<Float32Array> {
    this.feed(data.x, data.y, start, n, order);
    if (!this.guardStatus) return { loss: this.exports.train_step(n), predictions: this.predictions(n) };
    const loss = this.exports.train_step_checked!(n);
    const status = this.guardStatus[0]!;
    if (status === -1) {
      this.finiteSteps++;
      return { loss, predictions: this.predictions(n) };
    }
    const guard = this.manifest.buffers.guard!;
    const checks = this.manifest.guard?.checks ?? [];
    if (status < -1 || status >= checks.length) {
      throw new ManifestError(`the guard status word at ${guard.offset} holds ${status}, not -1 or an index of guard.checks: the manifest's buffers.guard does not match the module`);
    }
    // One norm per gradient buffer (trained parameters), in the order of buffers.grads.
    const grads = this.manifest.buffers.grads;
    const norms = new Float32Array(this.exports.memory.buffer, guard.offset + 4, grads.length);
    const lastFiniteGradNorms = this.finiteSteps ? new Map(grads.map((p, k) => [p.name, norms[k]!])) : null;
    return { loss, predictions: this.predictions(n), nonFinite: { tensor: this.manifest.guard!.checks[status]!, lastFiniteGradNorms } };
  }

  gradientsBatch(data: Batch, start: number, n: number): BatchResult<Float32Array> & { grads: Map<string, Float32Array> } {
    this.feed(data.x, data.y, start, n);
    const loss = this.exports.gradients(n);
    const grads = new Map(Object.entries(this.views.grads).map(([name, view]) => [name, view.slice()]));
    return { loss, predictions: this.predictions(n), grads };
  }

  evaluateBatch(data: Batch, start: number, n: number, order?: Uint32Array): BatchResult<Float32Array> {
    this.feed(data.x, data.y, start, n, order);
    const loss = this.exports.evaluate(n);
    return { loss, predictions: this.predictions(n), ...(this.losses.length ? { losses: this.losses.map((view) => view[0]!) } : {}) };
  }

  readDiagnostics(): Diagnostics | undefined {
    // Trainers without telemetry answer at once: fit asks after every step.
    return this.finiteSteps && this.manifest.diagnostics ? readDiagnostics(this.manifest, this.exports.memory.buffer) : undefined;
  }

  predictBatch(x: readonly Rows[], start: number, n: number): readonly Float32Array[] {
    this.feed(x, null, start, n);
    this.exports.predict(n);
    return this.predictions(n);
  }
}

/** How many threads a trainer runs on, and why fewer than asked where that is so. */
export interface Threading {
  /** Threads that run its steps: the caller and threads − 1 workers. */
  readonly threads: number;
  /** Why the trainer runs on fewer threads than `loadTrainer` was asked for (absent when it runs on as many). */
  readonly reason?: string;
}

/** Ends the workers of a threaded trainer that is collected without dispose(), so they do not pile up in a long-lived process. */
// Absent in hosts without FinalizationRegistry (some workerd compatibility dates), which have no workers either.
const abandonedPools = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<WorkerPool>((pool) => pool.stop()) : null;

/** A compiled model, trained and run in float32 by its .wasm. */
export class Trainer extends ModelRunner<Float32Array> {
  readonly manifest: Manifest;
  readonly module: WebAssembly.Module;
  readonly views: TrainerViews;
  private readonly impl: WasmEngine;
  private pool: WorkerPool | null = null;
  private threadingState: Threading = { threads: 1 };

  constructor(module: WebAssembly.Module, instance: WebAssembly.Instance) {
    const manifest = readManifest(module);
    verifyModule(module, manifest);
    verifyManifest(manifest, (instance.exports.memory as WebAssembly.Memory).buffer.byteLength);
    const engine = new WasmEngine(manifest, instance.exports as unknown as TrainerExports);
    super(engine);
    this.manifest = manifest;
    this.module = module;
    this.views = engine.views;
    this.impl = engine;
    engine.init(manifest.seed);
  }

  /** The threads this trainer runs on (1 unless loaded with `threads`), and why fewer than asked. */
  get threading(): Threading {
    return this.threadingState;
  }

  /** @internal loadTrainer's: the workers of a threaded build, or why there are none. */
  attachThreads(pool: WorkerPool | null, threading: Threading): void {
    this.pool = pool;
    this.threadingState = threading;
    if (pool) abandonedPools?.register(this, pool, this);
  }

  /**
   * Ends the trainer's worker threads (a threaded trainer); it then trains on the calling thread
   * alone, with the same results. A trainer without workers has nothing to end.
   */
  dispose(): void {
    this.pool?.stop();
    this.pool = null;
    abandonedPools?.unregister(this);
    if (this.threadingState.threads > 1) this.threadingState = { threads: 1, reason: 'the trainer was disposed' };
  }

  /**
   * Call after writing parameters or optimizer state through `views` directly (loadCheckpoint
   * does): the non-finite guard then stops quoting gradient norms of the weights that were there.
   */
  weightsReplaced(): void {
    this.impl.forgetSteps();
  }
}

export interface LoadOptions {
  /**
   * 'auto' (default): run the relaxed-SIMD build a trainer carries when this host validates it,
   * else the baseline build. 'baseline': always the baseline build.
   */
  readonly simd?: 'auto' | 'baseline';
  /**
   * Threads to train on: 1 (default) runs the single-threaded build; n > 1, or 'auto' (the host's
   * cores, at most MAX_AUTO_THREADS), runs the trainer's threaded build (compiled with
   * `threaded: true`) with n − 1 worker threads, bit-identical to one thread. Where that cannot
   * be — no threaded build, no SharedArrayBuffer (a page without cross-origin isolation), no
   * workers (workerd) — the trainer runs on one thread and `trainer.threading.reason` says why.
   */
  readonly threads?: ThreadCount;
  /** Least multiply-adds of a part of a split product (default: the compiled threshold); for measurements. */
  readonly minPartWork?: number;
}

export type ThreadCount = number | 'auto';

/** 'auto' takes at most this many threads: beyond it the serial kernels dominate a step. */
export const MAX_AUTO_THREADS = 8;

/** The relaxed-SIMD build inside a baseline trainer, if the host validates and may compile it. */
async function relaxedBuild(module: WebAssembly.Module, manifest: Manifest): Promise<WebAssembly.Module | null> {
  const [section] = WebAssembly.Module.customSections(module, RELAXED_SECTION);
  if (!section) return null;
  const bytes = new Uint8Array(section);
  // Checked whether or not this host runs it: a tampered file is refused everywhere alike.
  await verifyRelaxed(manifest, bytes, null);
  if (!WebAssembly.validate(bytes)) return null;
  let relaxed: WebAssembly.Module;
  try {
    relaxed = await WebAssembly.compile(bytes);
  } catch {
    // Hosts such as workerd refuse to compile bytes at run time: the baseline module runs.
    return null;
  }
  await verifyRelaxed(manifest, bytes, readManifest(relaxed));
  return relaxed;
}

/**
 * Loads a trainer from its .wasm bytes or from a precompiled WebAssembly.Module (hosts such as
 * workerd forbid compiling bytes at run time). Parameters start initialised from the spec's seed.
 * `trainer.manifest.simd` says which build runs.
 */
export async function loadTrainer(source: ArrayBuffer | ArrayBufferView | WebAssembly.Module, options: LoadOptions = {}): Promise<Trainer> {
  // ArrayBufferView over any buffer: Deno and newer TypeScript type file bytes as Uint8Array<ArrayBufferLike>.
  const given = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source as BufferSource);
  const manifest = readManifest(given);
  verifyModule(given, manifest);
  const relaxed = options.simd !== 'baseline' ? await relaxedBuild(given, manifest) : null;
  const threads = options.threads ?? 1;
  if (threads !== 'auto' && (!Number.isSafeInteger(threads) || threads < 1)) throw new RangeError(`threads must be a positive integer or 'auto', got ${String(threads)}`);
  let reason: string | undefined;
  if (threads !== 1) {
    const threaded = await loadThreaded(given, manifest, relaxed !== null, threads, options.minPartWork ?? 0);
    if (threaded instanceof Trainer) return threaded;
    reason = threaded.reason;
  }
  const module = relaxed ?? given;
  verifyModule(module, manifest);
  const instance = await WebAssembly.instantiate(module, {});
  const trainer = new Trainer(module, instance);
  if (reason !== undefined) trainer.attachThreads(null, { threads: 1, reason });
  return trainer;
}

/**
 * The trainer's threaded build (relaxed SIMD where the single-threaded build would be), on a shared
 * memory with its workers started; or why it cannot run here.
 */
async function loadThreaded(given: WebAssembly.Module, manifest: Manifest, relaxed: boolean, threads: ThreadCount, minPartWork: number): Promise<Trainer | { reason: string }> {
  const bound = manifest.threadedSha256;
  if (!bound) return { reason: 'the trainer was compiled without threaded builds (compile with threaded: true)' };
  const support = threadSupport();
  if (!support.ok) return { reason: support.reason };
  const count = threads === 'auto' ? Math.min(MAX_AUTO_THREADS, await availableCores(support)) : threads;
  // Bit-identical to the single-threaded build this host would run: the same SIMD flavour.
  const section = relaxed && bound.relaxed ? THREADED_RELAXED_SECTION : THREADED_SECTION;
  const [payload] = WebAssembly.Module.customSections(given, section);
  if (!payload) throw new ManifestError(`the manifest binds a threaded build, but the trainer has no '${section}' section`);
  const bytes = new Uint8Array(payload);
  await verifyThreaded(manifest, section, section === THREADED_SECTION ? bound.baseline : bound.relaxed!, bytes, null);
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes);
  } catch (err) {
    return { reason: `this host cannot compile the threaded build: ${(err as Error).message}` };
  }
  const own = readManifest(module);
  await verifyThreaded(manifest, section, section === THREADED_SECTION ? bound.baseline : bound.relaxed!, bytes, own);
  verifyModule(module, own);
  // A model none of whose products fills two parts would only pay the threaded build's dispatch.
  const { largestProduct } = own.threads!;
  const partWork = minPartWork > 0 ? minPartWork : own.threads!.minPartWork;
  if (count > 1 && largestProduct < 2 * partWork) {
    return { reason: `no product of this model is large enough to gain from threads: the largest has ${largestProduct} multiply-adds at the compiled batch, and a part needs ${partWork}` };
  }
  const pages = own.memory.pages;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const trainer = new Trainer(module, { exports: reportingWorkerFailures(instance.exports) });
  if (count <= 1) {
    trainer.attachThreads(null, { threads: 1 });
    return trainer;
  }
  const exports = instance.exports as unknown as ThreadedExports;
  try {
    const pool = await WorkerPool.start(support.host, module, memory, exports, count - 1, support.callerWaits, minPartWork);
    trainer.attachThreads(pool, { threads: count });
  } catch (err) {
    trainer.attachThreads(null, { threads: 1, reason: `worker threads failed to start: ${(err as Error).message}` });
  }
  return trainer;
}
