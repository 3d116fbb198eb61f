// What the non-finite guard and the telemetry cost per training step, on the benchmark's
// workloads (bench/workloads.ts): the bare `train_step` export against `train_step_checked` (the
// guard, what fit and trainStep call) of the same module, and against the checked step of a
// trainer compiled with `diagnostics: true`. Rounds rotate which variant goes first; each round
// yields one ratio per variant to the bare step of that same round (paired, so a burst of load
// from elsewhere cancels), and the medians over the rounds are reported.
//
//   npm run bench:guard
import { compileToWasm } from '../compiler/compile.ts';
import { fedInstance } from './nabla.ts';
import { formatRatio, pairedRounds } from './timing.ts';
import { nablaSpec, WORKLOADS } from './workloads.ts';

const ROUNDS = 41;
const WARMUP = 5;
/** Steps per timed round: about 20–50 ms each on the 2-core machine. */
const STEPS: Record<string, number> = { 'W1/64': 10, 'W1/256': 3 };

for (const w of WORKLOADS.filter((w) => w.name in STEPS)) {
  const steps = STEPS[w.name]!;
  const plain = await compileToWasm(nablaSpec(w), { simd: 'baseline' });
  const diag = await compileToWasm(nablaSpec(w), { simd: 'baseline', diagnostics: true });
  // Baseline-SIMD instances (the relaxed build would add a variable).
  const a = await fedInstance(await WebAssembly.compile(plain.wasm), w);
  const b = await fedInstance(await WebAssembly.compile(diag.wasm), w);
  const variants: [string, () => void][] = [
    ['train_step (bare)', () => a.train_step(w.batch)],
    ['train_step_checked (guard)', () => a.train_step_checked(w.batch)],
    ['train_step_checked, diagnostics on', () => b.train_step_checked(w.batch)],
  ];
  const result = pairedRounds(
    variants.map(([, run]) => run),
    steps,
    ROUNDS,
    WARMUP,
  );
  console.log(`${w.name} (${w.inputs}-${w.layers.map((l) => l.units).join('-')}, batch ${w.batch}): ${ROUNDS} rounds of ${steps} steps after ${WARMUP} warm-up rounds`);
  console.log(`  ${'variant'.padEnd(36)} ${'median ms/step'.padStart(15)}  median paired ratio (25th–75th percentile)`);
  variants.forEach(([name], k) => console.log(`  ${name.padEnd(36)} ${result.ms[k]!.toFixed(3).padStart(15)}  ${formatRatio(result.ratios[k]!)}`));
}
