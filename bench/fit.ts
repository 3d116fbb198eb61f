// What the JavaScript layer costs on top of the compiled step: `fit` (one epoch of seeded shuffled
// batches, the guarded step, the loss and accuracy kept) and `trainStep` against the bare loop of
// the trainer's lowest-level `train_step` export, on the same data and the same batches: W1/64 on
// 1,280 synthetic rows (20 steps an epoch) and the iris example's model on the 150 iris rows
// (10 steps). The bare loop's input and label buffers hold one batch of the data, copied in before
// timing; it calls train_step once per batch of fit's epoch with that batch's row count. Rounds
// rotate which variant goes first, each round gives every variant a ratio to the bare loop of
// that same round (paired, so load from elsewhere cancels), and the medians over 41 rounds are
// reported. `fit` is timed with the data as typed arrays (Float32Array inputs, Int32Array labels)
// and as nested arrays (number[][] rows); `trainStep` with one typed-array batch per call.
//
//   npm run bench -- --only W1/64 --no-tfjs --no-jax --no-gemm   (prints this table at the end; --no-fit skips it)
//   npm run bench:fit [-- --base <rev>] [--only W1/64,iris]
//
// --base adds the same fit calls through the runtime of another git revision (checked out under
// .bench-ab/<commit>/ as bench:ab does), on the same trainer bytes: before and after, in one process.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { compileToWasm } from '../compiler/compile.ts';
import { loadCsv } from '../compiler/cli/csv.ts';
import { fitStandardizer, standardize } from '../compiler/cli/preprocess.ts';
import { Rng } from '../runtime/prng.ts';
import { loadTrainer, type Trainer } from '../runtime/trainer.ts';
import { formatRatio, msPerCall, pairedRounds } from './timing.ts';
import { nablaSpec, WORKLOADS } from './workloads.ts';

/** A data set for one model: inputs [rows, features] and one class index per row. */
interface FitCase {
  readonly name: string;
  readonly spec: unknown;
  readonly rows: number;
  readonly features: number;
  readonly x: Float32Array;
  readonly y: Int32Array;
}

function w1Case(rows = 1280): FitCase {
  const w = WORKLOADS.find((x) => x.name === 'W1/64')!;
  const rng = new Rng(7);
  const classes = w.layers[w.layers.length - 1]!.units;
  const x = Float32Array.from({ length: rows * w.inputs }, () => 2 * rng.uniform() - 1);
  const y = Int32Array.from({ length: rows }, () => rng.below(classes));
  return { name: 'W1/64', spec: nablaSpec(w), rows, features: w.inputs, x, y };
}

function irisCase(): FitCase {
  const data = loadCsv(fileURLToPath(new URL('../examples/iris/iris.csv', import.meta.url)));
  const scaled = standardize(data, fitStandardizer(data));
  const spec: unknown = JSON.parse(readFileSync(new URL('../examples/iris/model.json', import.meta.url), 'utf8'));
  return { name: 'iris', spec, rows: data.rows, features: data.features, x: Float32Array.from(scaled.x), y: Int32Array.from(scaled.y) };
}

const nested = (c: FitCase): number[][] => Array.from({ length: c.rows }, (_, r) => Array.from(c.x.subarray(r * c.features, (r + 1) * c.features)));

interface StepExports {
  readonly memory: WebAssembly.Memory;
  init(seed: number): void;
  train_step(n: number): number;
  train_step_checked(n: number): number;
}

type Load = (bytes: Uint8Array) => Promise<Trainer>;

/** One line per variant: median ms per fit call (or per epoch of steps) and its paired ratio to the bare loop. */
export async function benchFit(options: { readonly base?: { readonly label: string; readonly load: Load }; readonly only?: readonly string[] } = {}): Promise<string[]> {
  const lines: string[] = [];
  for (const c of [w1Case(), irisCase()].filter((x) => !options.only || options.only.includes(x.name))) {
    const compiled = await compileToWasm(c.spec);
    const trainer = await loadTrainer(compiled.wasm);
    const { manifest } = trainer;
    const B = manifest.batchSize;
    // The bare loop: an instance of the build the trainer runs, its buffers holding the first batch.
    const bare = (await WebAssembly.instantiate(trainer.module, {})).exports as unknown as StepExports;
    bare.init(manifest.seed);
    new Float32Array(bare.memory.buffer, manifest.buffers.inputs[0]!.offset, B * c.features).set(c.x.subarray(0, B * c.features));
    new Int32Array(bare.memory.buffer, manifest.buffers.targets[0]!.offset, B).set(c.y.subarray(0, B));
    const sizes = Array.from({ length: Math.ceil(c.rows / B) }, (_, b) => Math.min(B, c.rows - b * B));
    const bareEpoch = (): void => {
      for (const n of sizes) bare.train_step(n);
    };
    // The guarded step fit and trainStep run: the least either can cost.
    const checkedEpoch = (): void => {
      for (const n of sizes) bare.train_step_checked(n);
    };
    const typed = { x: c.x, y: c.y };
    const rows = { x: nested(c), y: Array.from(c.y) };
    const batches = sizes.map((n, b) => ({ x: c.x.slice(b * B * c.features, (b * B + n) * c.features), y: c.y.slice(b * B, b * B + n) }));
    const variants: [string, () => void][] = [
      ['train_step loop (bare)', bareEpoch],
      ['train_step_checked loop (the guard)', checkedEpoch],
      ['fit, typed arrays', () => trainer.fit(typed)],
      ['fit, nested arrays', () => trainer.fit(rows)],
      ['trainStep per batch, typed arrays', () => batches.forEach((b) => trainer.trainStep(b.x, b.y))],
    ];
    if (options.base) {
      const old = await options.base.load(compiled.wasm);
      variants.push([`fit, typed arrays (${options.base.label})`, () => old.fit(typed)]);
      variants.push([`fit, nested arrays (${options.base.label})`, () => old.fit(rows)]);
    }
    // About 20 ms of bare steps a round.
    const calls = Math.max(1, Math.round(20 / msPerCall(bareEpoch, 200)));
    const result = pairedRounds(
      variants.map(([, run]) => run),
      calls,
    );
    lines.push(`${c.name}: ${c.rows} rows × ${c.features} features, batch ${B}, ${sizes.length} steps an epoch (${manifest.simd} SIMD build); ${calls} calls a round, 41 rounds`);
    lines.push(`  ${'variant'.padEnd(44)} ${'ms a call'.padStart(10)}  ratio to the bare loop, median (25th–75th percentile)`);
    variants.forEach(([name], k) => lines.push(`  ${name.padEnd(44)} ${result.ms[k]!.toFixed(3).padStart(10)}  ${formatRatio(result.ratios[k]!)}`));
  }
  return lines;
}

/** The runtime of another git revision, checked out under .bench-ab/<commit>/ (as bench:ab does). */
async function baseRuntime(rev: string): Promise<{ label: string; load: Load }> {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  const git = (...args: string[]): string => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
  const commit = git('rev-parse', '--verify', `${rev}^{commit}`);
  const tree = fileURLToPath(new URL(`../.bench-ab/${commit}/`, import.meta.url));
  if (!existsSync(tree)) git('worktree', 'add', '--detach', tree, commit);
  const runtime = (await import(pathToFileURL(`${tree}runtime/trainer.ts`).href)) as { loadTrainer: Load };
  return { label: commit.slice(0, 7), load: (bytes) => runtime.loadTrainer(bytes) };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { base: { type: 'string' }, only: { type: 'string' } } });
  const base = values.base === undefined ? undefined : await baseRuntime(values.base);
  console.log(`fit and trainStep against the bare train_step loop · ${new Date().toISOString().slice(0, 16)} · Node ${process.version}`);
  for (const line of await benchFit({ ...(base ? { base } : {}), ...(values.only ? { only: values.only.split(',') } : {}) })) console.log(line);
}
