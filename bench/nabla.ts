// nabla's side of the benchmark: compile the workload, write the batch into the trainer's
// input and label buffers once, then time the bare `train_step` export (forward, backward,
// SGD update; it returns the loss, so the loss is read back every step).
import { compileToWasm } from '../compiler/compile.ts';
import { readManifest } from '../runtime/manifest.ts';
import { msPerCall } from './timing.ts';
import { nablaSpec, syntheticBatch, type Workload } from './workloads.ts';

interface StepExports {
  readonly memory: WebAssembly.Memory;
  init(seed: number): void;
  train_step(n: number): number;
}

export interface NablaResult {
  readonly ms: number;
  readonly compileMs: number;
  readonly wasmBytes: number;
  readonly loss: number;
}

export async function benchNabla(w: Workload, budgetMs: number): Promise<NablaResult> {
  const compiled = await compileToWasm(nablaSpec(w));
  const module = await WebAssembly.compile(compiled.wasm);
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
  if (!Number.isFinite(loss)) throw new Error(`nabla ${w.name}: non-finite loss ${loss}`);
  return { ms, compileMs: compiled.timings.totalMs, wasmBytes: compiled.wasm.length, loss };
}
