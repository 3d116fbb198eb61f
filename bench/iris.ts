// Compile time, .wasm size and median train-step time of the iris example model.
// Run: npm run bench:iris   (same model, same batch for every figure; medians of repeated runs)
import { readFileSync } from 'node:fs';
import { compileToWasm } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { loadTrainer } from '../runtime/trainer.ts';
import { Rng } from '../runtime/prng.ts';

const spec: unknown = JSON.parse(readFileSync(new URL('../examples/iris/model.json', import.meta.url), 'utf8'));

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const compileMs: number[] = [];
let compiled = await compileToWasm(spec);
for (let i = 0; i < 5; i++) {
  compiled = await compileToWasm(spec);
  compileMs.push(compiled.timings.totalMs);
}
const trainer = await loadTrainer(compiled.wasm);
const B = trainer.manifest.batchSize;
const features = trainer.manifest.input.shape[1] as number;
const classes = trainer.manifest.prediction.shape[1] as number;
const rng = new Rng(1);
const x = Array.from({ length: B }, () => Array.from({ length: features }, () => 2 * rng.uniform() - 1));
const y = Array.from({ length: B }, () => rng.below(classes));

function stepTimes(step: () => void, repeats: number, inner: number): number[] {
  for (let i = 0; i < inner * 5; i++) step();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) step();
    times.push(((performance.now() - t0) * 1000) / inner);
  }
  return times;
}

// Through the public API (validation + copy in + step + loss out) and the bare export.
const api = median(stepTimes(() => trainer.trainStep(x, y), 31, 200));
const exportsOf = (await WebAssembly.instantiate(trainer.module, {})).exports as unknown as { train_step(n: number): number; init(s: number): void };
exportsOf.init(1);
const bare = median(stepTimes(() => exportsOf.train_step(B), 31, 2000));
const interpreter = interpret(spec);
const interp = median(stepTimes(() => interpreter.trainStep(x, y), 11, 20));

console.log(`iris model (${trainer.manifest.params.map((p) => p.shape.join('x')).join(', ')}), batch ${B}, ${process.version}`);
console.log(`compile (spec → .wasm), median of 5:   ${median(compileMs).toFixed(0)} ms`);
console.log(`.wasm size:                            ${compiled.wasm.length} bytes`);
console.log(`train step, bare export, median:       ${bare.toFixed(2)} µs`);
console.log(`train step via trainer.trainStep:      ${api.toFixed(2)} µs`);
console.log(`train step, float64 interpreter:       ${interp.toFixed(1)} µs  (${(interp / api).toFixed(0)}× the compiled API call)`);
