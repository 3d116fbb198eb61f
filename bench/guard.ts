// What the non-finite guard and the telemetry cost per training step, on the benchmark's
// workloads (bench/workloads.ts): the bare `train_step` export against `train_step_checked` (the
// guard, what fit and trainStep call) of the same module, and against the checked step of a
// trainer compiled with `diagnostics: true`. Rounds rotate which variant goes first; each round
// yields one ratio per variant to the bare step of that same round (paired, so a burst of load
// from elsewhere cancels), and the medians over the rounds are reported.
//
//   npm run bench:guard
import { compileToWasm } from '../compiler/compile.ts';
import type { Manifest } from '../runtime/manifest.ts';
import { nablaSpec, syntheticBatch, WORKLOADS, type Workload } from './workloads.ts';

interface Exports {
  memory: WebAssembly.Memory;
  init(seed: number): void;
  train_step(n: number): number;
  train_step_checked(n: number): number;
}

const ROUNDS = 41;
const WARMUP = 5;
/** Steps per timed round: about 20–50 ms each on the 2-core machine. */
const STEPS: Record<string, number> = { 'W1/64': 10, 'W1/256': 3 };

/** A baseline-SIMD instance fed one synthetic batch (the relaxed build would add a variable). */
async function instance(wasm: Uint8Array<ArrayBuffer>, manifest: Manifest, w: Workload): Promise<Exports> {
  const { instance } = await WebAssembly.instantiate(wasm, {});
  const e = instance.exports as unknown as Exports;
  e.init(1);
  const batch = syntheticBatch(w);
  const b = manifest.buffers;
  new Float32Array(e.memory.buffer, b.input.offset, b.input.bytes / 4).set(batch.x);
  if (batch.labels instanceof Int32Array) new Int32Array(e.memory.buffer, b.labels.offset, w.batch).set(batch.labels);
  else new Float32Array(e.memory.buffer, b.labels.offset, b.labels.bytes / 4).set(batch.labels);
  return e;
}

const median = (v: readonly number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;

for (const w of WORKLOADS.filter((w) => w.name in STEPS)) {
  const steps = STEPS[w.name]!;
  const plain = await compileToWasm(nablaSpec(w), { simd: 'baseline' });
  const diag = await compileToWasm(nablaSpec(w), { simd: 'baseline', diagnostics: true });
  const a = await instance(plain.wasm, plain.manifest, w);
  const b = await instance(diag.wasm, diag.manifest, w);
  const variants: [string, () => void][] = [
    ['train_step (bare)', () => a.train_step(w.batch)],
    ['train_step_checked (guard)', () => a.train_step_checked(w.batch)],
    ['train_step_checked, diagnostics on', () => b.train_step_checked(w.batch)],
  ];
  const times: number[][] = variants.map(() => []);
  for (let round = 0; round < ROUNDS + WARMUP; round++) {
    for (let j = 0; j < variants.length; j++) {
      const k = (round + j) % variants.length;
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) variants[k]![1]();
      times[k]!.push((performance.now() - t0) / steps);
    }
  }
  const timed = times.map((t) => t.slice(WARMUP));
  console.log(`${w.name} (${w.inputs}-${w.layers.map((l) => l.units).join('-')}, batch ${w.batch}): ${ROUNDS} rounds of ${steps} steps after ${WARMUP} warm-up rounds`);
  console.log(`  ${'variant'.padEnd(36)} ${'median ms/step'.padStart(15)}  median paired ratio (25th–75th percentile)`);
  variants.forEach(([name], k) => {
    const ratios = timed[k]!.map((v, r) => v / timed[0]![r]!).sort((x, y) => x - y);
    const q = (p: number): number => ratios[Math.floor(p * (ratios.length - 1))]!;
    console.log(`  ${name.padEnd(36)} ${median(timed[k]!).toFixed(3).padStart(15)}  ×${median(ratios).toFixed(3)} (${q(0.25).toFixed(3)}–${q(0.75).toFixed(3)})`);
  });
}
