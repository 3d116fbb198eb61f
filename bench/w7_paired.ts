// W7's speed against jax-js on a shared machine: nabla's step and jax-js's step alternate in rounds
// (pairedRounds), so a burst of load from elsewhere falls on both and cancels out of each round's
// ratio, where `npm run bench` times each system in its own stretch of minutes. With --threads N,
// nabla's threaded build on N threads joins the rounds as a third variant (jax-js runs on one
// thread under Node: its wasm device starts its worker pool only where a global Worker exists,
// and in a page, where it has one, the pool makes W7 slower: npm run bench:w7:browser).
//
//   npm run bench:w7 [-- --baseline] [--threads 2]
import { parseArgs } from 'node:util';
import { compileToWasm } from '../compiler/compile.ts';
import { w7Spec } from './transformer.ts';
import { readManifest } from '../runtime/manifest.ts';
import { feedW7, fedW7Instance, jaxW7Trainer, nablaW7Weights } from './w7_model.ts';
import { relaxedBuild, threadedBuild, threadedStepInstance } from './nabla_builds.ts';
import { relaxedSimd, rerunWithRelaxedSimd } from './relaxed.ts';
import { formatRatio, pairedRounds, roundRatios } from './timing.ts';

const { values } = parseArgs({ options: { baseline: { type: 'boolean' }, threads: { type: 'string' } } });
if (!values.baseline) {
  const status = rerunWithRelaxedSimd();
  if (status !== null) process.exit(status);
}
const threads = values.threads === undefined ? 1 : Number(values.threads);
if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads takes a positive integer, got ${values.threads}`);
const module = await WebAssembly.compile((await compileToWasm(w7Spec(), { threaded: threads > 1 })).wasm);
const relaxed = !values.baseline && relaxedSimd();
const built = relaxed ? await relaxedBuild(module) : module;
if (!built) throw new Error('internal: the relaxed build did not validate');
const nabla = await fedW7Instance(built);
const threaded = threads > 1 ? await threadedStepInstance(await threadedBuild(module, relaxed), threads, 0, feedW7()) : undefined;
// jax-js starts from nabla's initial weights: both then take the same steps from the same point.
const jax = await jaxW7Trainer(nablaW7Weights(readManifest(built), nabla.memory.buffer));
let nablaLoss = NaN;
let threadedLoss = NaN;
let jaxLoss = NaN;
const variants = [() => (nablaLoss = nabla.train_step(32)), () => (jaxLoss = jax.step())];
if (threaded) variants.push(() => (threadedLoss = threaded.exports.train_step(32)));
const result = pairedRounds(variants, 3, 41, 5);
jax.dispose();
threaded?.pool?.stop();
if (!Number.isFinite(nablaLoss) || !Number.isFinite(jaxLoss)) throw new Error(`W7: non-finite loss (nabla ${nablaLoss}, jax-js ${jaxLoss})`);
// The threaded build computes the single-threaded build's bits: after as many steps, the same loss.
if (threaded && threadedLoss !== nablaLoss) throw new Error(`W7: the ${threads}-thread build's loss ${threadedLoss} differs from the single-threaded build's ${nablaLoss}`);
console.log(`W7, ${built === module ? 'baseline' : 'relaxed'} SIMD nabla build, jax-js on its wasm device from nabla's initial weights; 3 steps of each a round, 41 rounds; median (25th–75th percentile) of the rounds' ratios`);
console.log(`loss after ${(41 + 5) * 3} steps of each: nabla ${nablaLoss.toFixed(5)}, jax-js ${jaxLoss.toFixed(5)}`);
console.log(`nabla ${result.ms[0]!.toFixed(2)} ms  jax-js ${result.ms[1]!.toFixed(2)} ms  jax-js / nabla ${formatRatio(roundRatios(result, 1, 0))}  (fastest rounds: nabla ${result.fastest[0]!.toFixed(2)} ms, jax-js ${result.fastest[1]!.toFixed(2)} ms)`);
if (threaded) {
  console.log(
    `nabla on ${threads} threads ${result.ms[2]!.toFixed(2)} ms  jax-js / nabla on ${threads} threads ${formatRatio(roundRatios(result, 1, 2))}  ${threads} threads / one ${formatRatio(roundRatios(result, 2, 0))}  (fastest round ${result.fastest[2]!.toFixed(2)} ms)`,
  );
}
