// Before and after a change, side by side in one process: the working tree's compiler against
// the compiler of another git revision (default HEAD), on the benchmark's workloads. Both
// trainers run the same spec, data and SIMD flavour; rounds alternate between them (pairedRounds),
// so a burst of load from elsewhere on a shared machine cancels out of each round's ratio.
//
//   npm run bench:ab -- [--base <rev>] [--only W2,W1/64,W1/1,W7] [--baseline] [--activation elu] [--checked] [--threads 2]
//
// --activation swaps every hidden layer's activation (any the spec accepts: sigmoid, elu, gelu,
// swish, ...), to measure a change to an activation on the benchmark's shapes.
// --checked times train_step_checked (the guarded step nabla's runtime calls) instead of train_step.
// --threads N compares the threaded builds on N threads (each trainer with its own workers; the
// variants take turns, with a pause of 3 ms before each turn, so one's workers have stopped
// spinning and block while the other runs).
//
// The base revision is checked out once as a detached worktree under .bench-ab/<commit>/ (inside
// the repository, so it resolves this checkout's node_modules) and its compiler imported from there.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileToWasm } from '../compiler/compile.ts';
import { fedInstance } from './nabla.ts';
import { relaxedBuild, threadedBuild, threadedStepInstance } from './nabla_builds.ts';
import { threadCase } from './threads.ts';
import { relaxedSimd, rerunWithRelaxedSimd } from './relaxed.ts';
import { formatRatio, msPerCall, pairedRounds, pause } from './timing.ts';
import { w7Spec } from './transformer.ts';
import { fedW7Instance, W7 } from './w7_model.ts';
import { nablaSpec, workloadNamed, WORKLOADS, type Workload } from './workloads.ts';

const { values } = parseArgs({
  options: { base: { type: 'string', default: 'HEAD' }, only: { type: 'string' }, baseline: { type: 'boolean' }, activation: { type: 'string' }, checked: { type: 'boolean' }, threads: { type: 'string' } },
});
const threads = values.threads === undefined ? 1 : Number(values.threads);
if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads takes a positive integer, got ${values.threads}`);
if (!values.baseline) {
  const status = rerunWithRelaxedSimd();
  if (status !== null) process.exit(status);
}
const repo = fileURLToPath(new URL('..', import.meta.url));
const git = (...args: string[]): string => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
const commit = git('rev-parse', '--verify', `${values.base}^{commit}`);
const tree = fileURLToPath(new URL(`../.bench-ab/${commit}/`, import.meta.url));
if (!existsSync(tree)) git('worktree', 'add', '--detach', tree, commit);
const base = (await import(pathToFileURL(`${tree}compiler/compile.ts`).href)) as { compileToWasm: typeof compileToWasm };

const useRelaxed = !values.baseline && relaxedSimd();
const only = values.only?.split(',');
const label = git('log', '-1', '--format=%h %s', commit).slice(0, 72);
console.log(`A = ${label}\nB = working tree${git('status', '--porcelain', '--untracked-files=no') ? ' (uncommitted changes)' : ''}`);
const entry = values.checked ? 'train_step_checked' : 'train_step';
console.log(`${useRelaxed ? 'relaxed' : 'baseline'} SIMD ${threads > 1 ? `threaded build on ${threads} threads` : 'build'}, ${values.checked ? 'guarded train_step_checked' : 'bare train_step'}; ratio B/A per round, median (25th–75th percentile) of 41 rounds\n`);

/** The workload's spec, its hidden layers' activation swapped where --activation asks. */
function spec(w: Workload): unknown {
  const s = nablaSpec(w) as { layers: { activation: string }[] };
  if (values.activation) s.layers.slice(0, -1).forEach((l) => (l.activation = values.activation!));
  return s;
}
if (values.activation) console.log(`hidden layers: ${values.activation}`);

// --only also takes W1 at any batch (W1/1, W1/2048...) and W7 (the transformer, bench/transformer.ts).
interface Chosen {
  readonly name: string;
  readonly batch: number;
  readonly spec: () => unknown;
  readonly feed: (module: WebAssembly.Module) => ReturnType<typeof fedInstance>;
}
const asChosen = (w: Workload): Chosen => ({ name: w.name, batch: w.batch, spec: () => spec(w), feed: (m) => fedInstance(m, w) });
const w7: Chosen = { name: W7.name, batch: W7.batch, spec: w7Spec, feed: fedW7Instance };
const chosen = only ? only.map((name) => (name === W7.name ? w7 : asChosen(workloadNamed(name) ?? fail(`unknown workload ${name}`)))) : WORKLOADS.map(asChosen);
function fail(message: string): never {
  throw new Error(message);
}
const pools: { stop(): void }[] = [];
for (const w of chosen) {
  const trainer = async (compile: typeof compileToWasm) => {
    const module = await WebAssembly.compile((await compile(w.spec(), threads > 1 ? { threaded: true } : {})).wasm);
    if (threads > 1) {
      // The spec as --activation left it, fed as bench:threads feeds the workload.
      const instance = await threadedStepInstance(await threadedBuild(module, useRelaxed), threads, 0, threadCase(w.name).feed);
      if (instance.pool) pools.push(instance.pool);
      return instance.exports;
    }
    const built = useRelaxed ? await relaxedBuild(module) : module;
    if (!built) throw new Error('internal: the relaxed build did not validate');
    return w.feed(built);
  };
  const a = await trainer(base.compileToWasm);
  const b = await trainer(compileToWasm);
  const steps = Math.max(1, Math.round(20 / msPerCall(() => a[entry](w.batch), 200)));
  // Threaded: each variant's rounds start once the other's workers have stopped spinning.
  const result = pairedRounds([() => a[entry](w.batch), () => b[entry](w.batch)], steps, 41, 5, threads > 1 ? () => pause(3) : undefined);
  console.log(`${w.name.padEnd(7)} A ${result.ms[0]!.toFixed(4)} ms  B ${result.ms[1]!.toFixed(4)} ms  B/A ${formatRatio(result.ratios[1]!)}  (${steps} steps a round)`);
}
for (const pool of pools) pool.stop();
