// nabla's trainer builds as the benches run them: the bare `train_step` export of an instance whose
// input and label buffers were written once; the relaxed-SIMD build where the host runs it; the
// threaded build on a shared memory with its worker pool. Web-standard only (the runtime's own
// modules, no compiler), so the Node benches and the W7 browser page share it.
import { RELAXED_SECTION, readManifest, THREADED_RELAXED_SECTION, THREADED_SECTION, type Manifest } from '../runtime/manifest.ts';
import { threadSupport, WorkerPool, type ThreadedExports } from '../runtime/worker_pool.ts';

export interface StepExports {
  readonly memory: WebAssembly.Memory;
  init(seed: number): void;
  train_step(n: number): number;
  train_step_checked(n: number): number;
}

/** Writes a batch into an instance's input and label buffers. */
export type Feed = (manifest: Manifest, memory: ArrayBufferLike) => void;

/** The relaxed-SIMD build a baseline trainer carries, where this host runs it. */
export async function relaxedBuild(module: WebAssembly.Module): Promise<WebAssembly.Module | undefined> {
  const [bytes] = WebAssembly.Module.customSections(module, RELAXED_SECTION);
  return bytes && WebAssembly.validate(bytes) ? WebAssembly.compile(bytes) : undefined;
}

/** The threaded build a trainer compiled with `threaded: true` carries, of the SIMD flavour of the single-threaded build that runs (relaxed or not): bit-identical to it. */
export function threadedBuild(module: WebAssembly.Module, relaxed: boolean): Promise<WebAssembly.Module> {
  const [bytes] = WebAssembly.Module.customSections(module, relaxed ? THREADED_RELAXED_SECTION : THREADED_SECTION);
  if (!bytes) throw new Error(`the trainer carries no ${relaxed ? 'relaxed-SIMD ' : ''}threaded build: compile it with threaded: true`);
  return WebAssembly.compile(bytes);
}

/** A single-threaded build's instance, initialised from its seed and fed. */
export async function fedStepInstance(module: WebAssembly.Module, feed: Feed): Promise<StepExports> {
  const manifest = readManifest(module);
  const exports = (await WebAssembly.instantiate(module, {})).exports as unknown as StepExports;
  exports.init(manifest.seed);
  feed(manifest, exports.memory.buffer);
  return exports;
}

export interface ThreadedStepInstance {
  readonly exports: StepExports & ThreadedExports;
  readonly manifest: Manifest;
  /** The workers (threads − 1 of them); absent on one thread. */
  readonly pool?: WorkerPool;
}

/**
 * A threaded build's instance on `threads` threads (least multiply-adds per part `minWork`, 0:
 * the compiled default), initialised, fed, its workers started: what loadTrainer's threaded path
 * sets up, with the bare exports kept for timing.
 */
export async function threadedStepInstance(module: WebAssembly.Module, threads: number, minWork: number, feed: Feed): Promise<ThreadedStepInstance> {
  const support = threadSupport();
  if (!support.ok) throw new Error(`threads cannot run here: ${support.reason}`);
  const manifest = readManifest(module);
  const memory = new WebAssembly.Memory({ initial: manifest.memory.pages, maximum: manifest.memory.pages, shared: true });
  const exports = (await WebAssembly.instantiate(module, { env: { memory } })).exports as unknown as StepExports & ThreadedExports;
  exports.init(manifest.seed);
  feed(manifest, memory.buffer);
  if (threads <= 1) {
    exports.threads_configure(0, 1, minWork);
    return { exports, manifest };
  }
  const pool = await WorkerPool.start(support.host, module, memory, exports, threads - 1, support.callerWaits, minWork);
  return { exports, manifest, pool };
}
