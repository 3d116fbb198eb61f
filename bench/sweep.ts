// W1 across batches (1 to 2048): median ms per training step next to the time its matrix
// products' FLOPs take at the peak probe's rate, the probe and the step run alternately in
// short rounds (the ratio of neighbours is what stays put on a shared machine). The step is the
// bare `train_step` of the build loadTrainer picks here.
import type { SimdFlavour } from '../compiler/codegen/asc.ts';
import { compileToWasm } from '../compiler/compile.ts';
import { compiledProbe, probeName } from './gemm.ts';
import { fedInstance } from './nabla.ts';
import { relaxedBuild } from './nabla_builds.ts';
import { median, msPerCall } from './timing.ts';
import { nablaSpec, stepGemmFlops, w1, W1_SWEEP } from './workloads.ts';

export async function benchW1Sweep(budgetMs: number, simd: SimdFlavour, batches: readonly number[] = W1_SWEEP): Promise<string[]> {
  const probe = await compiledProbe(simd);
  const rows: string[][] = [['batch', 'ms/step', 'GEMM GFLOPS', 'FLOP time ms', 'step / FLOP time']];
  const peaks: number[] = [];
  for (const batch of batches) {
    const w = w1(batch);
    const module = await WebAssembly.compile((await compileToWasm(nablaSpec(w))).wasm);
    const built = simd === 'relaxed' ? await relaxedBuild(module) : module;
    if (!built) throw new Error('internal: the relaxed build did not validate');
    const trainer = await fedInstance(built, w);
    const flops = stepGemmFlops(w);
    // A second of steps first: V8 starts a wasm function in its baseline compiler and swaps in
    // the optimised code only once it ran hot for a while. Then rounds of about 20 ms of steps,
    // each after one probe run.
    const steps = Math.max(1, Math.round(20 / msPerCall(() => trainer.train_step(batch), 1000)));
    const rounds = Math.max(9, Math.round(budgetMs / 25));
    const ms: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const peak = probe();
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) trainer.train_step(batch);
      const step = (performance.now() - t0) / steps;
      peaks.push(peak);
      ms.push(step);
      ratios.push(step / (flops / peak / 1e6));
    }
    const step = median(ms);
    rows.push([String(batch), step < 1 ? step.toFixed(4) : step.toFixed(3), (flops / step / 1e6).toFixed(1), (flops / median(peaks) / 1e6).toFixed(4), `${median(ratios).toFixed(2)}×`]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return [
    `W1 (784 → 256 → 128 → 10) batch sweep, ${simd} SIMD build: median ms per train_step; FLOP time = the step's matrix-product FLOPs at the ${probeName(simd)} peak probe run alternately (median ${median(peaks).toFixed(1)} GFLOPS)`,
    ...rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padStart(widths[c]!) : cell.padStart(widths[c]!))).join('  ')),
  ];
}
