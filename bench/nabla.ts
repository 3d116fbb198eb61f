// nabla's side of the benchmark: compile the workload, write the batch into the trainer's
// input and label buffers once, then time the bare `train_step` export (forward, backward,
// SGD update; it returns the loss, so the loss is read back every step), for each SIMD build.
import { compileToWasm } from '../compiler/compile.ts';
import { readManifest } from '../runtime/manifest.ts';
import { fedStepInstance, relaxedBuild, type Feed, type StepExports } from './nabla_builds.ts';
import { msPerCall } from './timing.ts';
import { nablaSpec, syntheticBatch, type Workload } from './workloads.ts';

/** Writes the workload's synthetic batch into an instance's input and label buffers. */
export function feedWorkload(w: Workload): Feed {
  const { x, labels } = syntheticBatch(w);
  return (manifest, buffer) => {
    new Float32Array(buffer, manifest.buffers.input.offset, x.length).set(x);
    const { offset } = manifest.buffers.labels;
    if (labels instanceof Int32Array) new Int32Array(buffer, offset, labels.length).set(labels);
    else new Float32Array(buffer, offset, labels.length).set(labels);
  };
}

/** An instance of a compiled trainer, initialised from its seed, its input and label buffers holding the workload's batch. */
export function fedInstance(module: WebAssembly.Module, w: Workload): Promise<StepExports> {
  return fedStepInstance(module, feedWorkload(w));
}

export interface NablaResult {
  /** Median ms per step of the baseline SIMD build, and of the relaxed-SIMD build where the host runs it. */
  readonly ms: { readonly baseline: number; readonly relaxed?: number };
  readonly compileMs: number;
  readonly wasmBytes: number;
}

async function stepMs(module: WebAssembly.Module, w: Workload, budgetMs: number): Promise<number> {
  const exports = await fedInstance(module, w);
  let loss = NaN;
  const ms = msPerCall(() => {
    loss = exports.train_step(w.batch);
  }, budgetMs);
  if (!Number.isFinite(loss)) throw new Error(`nabla ${w.name} (${readManifest(module).simd}): non-finite loss ${loss}`);
  return ms;
}

export async function benchNabla(w: Workload, budgetMs: number): Promise<NablaResult> {
  const compiled = await compileToWasm(nablaSpec(w));
  const module = await WebAssembly.compile(compiled.wasm);
  const baseline = await stepMs(module, w, budgetMs);
  const relaxedModule = await relaxedBuild(module);
  const relaxed = relaxedModule ? await stepMs(relaxedModule, w, budgetMs) : undefined;
  return { ms: relaxed === undefined ? { baseline } : { baseline, relaxed }, compileMs: compiled.timings.totalMs, wasmBytes: compiled.wasm.length };
}
