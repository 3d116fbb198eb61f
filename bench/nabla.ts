// nabla's side of the benchmark: compile the workload, write the batch into the trainer's
// input and label buffers once, then time the bare `train_step` export (forward, backward,
// SGD update; it returns the loss, so the loss is read back every step), for each SIMD build.
import { compileToWasm } from '../compiler/compile.ts';
import { RELAXED_SECTION, readManifest } from '../runtime/manifest.ts';
import { msPerCall } from './timing.ts';
import { nablaSpec, syntheticBatch, type Workload } from './workloads.ts';

interface StepExports {
  readonly memory: WebAssembly.Memory;
  init(seed: number): void;
  train_step(n: number): number;
}

export interface NablaResult {
  /** Median ms per step of the baseline SIMD build, and of the relaxed-SIMD build where the host runs it. */
  readonly ms: { readonly baseline: number; readonly relaxed?: number };
  readonly compileMs: number;
  readonly wasmBytes: number;
}

async function stepMs(module: WebAssembly.Module, w: Workload, budgetMs: number): Promise<number> {
  const manifest = readManifest(module);
  const exports = (await WebAssembly.instantiate(module, {})).exports as unknown as StepExports;
  exports.init(manifest.seed);
  const { x, labels } = syntheticBatch(w);
  const buffer = exports.memory.buffer;
  new Float32Array(buffer, manifest.buffers.input.offset, x.length).set(x);
  const view = labels instanceof Int32Array ? Int32Array : Float32Array;
  new view(buffer, manifest.buffers.labels.offset, labels.length).set(labels);
  let loss = NaN;
  const ms = msPerCall(() => {
    loss = exports.train_step(w.batch);
  }, budgetMs);
  if (!Number.isFinite(loss)) throw new Error(`nabla ${w.name} (${manifest.simd}): non-finite loss ${loss}`);
  return ms;
}

export async function benchNabla(w: Workload, budgetMs: number): Promise<NablaResult> {
  const compiled = await compileToWasm(nablaSpec(w));
  const module = await WebAssembly.compile(compiled.wasm);
  const baseline = await stepMs(module, w, budgetMs);
  const [relaxedBytes] = WebAssembly.Module.customSections(module, RELAXED_SECTION);
  const relaxed = relaxedBytes && WebAssembly.validate(relaxedBytes) ? await stepMs(await WebAssembly.compile(relaxedBytes), w, budgetMs) : undefined;
  return { ms: relaxed === undefined ? { baseline } : { baseline, relaxed }, compileMs: compiled.timings.totalMs, wasmBytes: compiled.wasm.length };
}
