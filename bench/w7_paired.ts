// W7's speed against jax-js on a shared machine: nabla's step and jax-js's step alternate in rounds
// (pairedRounds), so a burst of load from elsewhere falls on both and cancels out of each round's
// ratio, where `npm run bench` times each system in its own stretch of minutes.
//
//   npm run bench:w7 [-- --baseline]
import { parseArgs } from 'node:util';
import { compileToWasm } from '../compiler/compile.ts';
import { w7Spec } from './transformer.ts';
import { fedW7Instance, jaxW7Trainer } from './w7_model.ts';
import { relaxedBuild } from './nabla_builds.ts';
import { relaxedSimd, rerunWithRelaxedSimd } from './relaxed.ts';
import { formatRatio, pairedRounds } from './timing.ts';

const { values } = parseArgs({ options: { baseline: { type: 'boolean' } } });
if (!values.baseline) {
  const status = rerunWithRelaxedSimd();
  if (status !== null) process.exit(status);
}
const module = await WebAssembly.compile((await compileToWasm(w7Spec())).wasm);
const built = !values.baseline && relaxedSimd() ? await relaxedBuild(module) : module;
if (!built) throw new Error('internal: the relaxed build did not validate');
const nabla = await fedW7Instance(built);
const jax = await jaxW7Trainer();
let nablaLoss = NaN;
let jaxLoss = NaN;
const result = pairedRounds([() => (nablaLoss = nabla.train_step(32)), () => (jaxLoss = jax.step())], 3, 41, 5);
jax.dispose();
if (!Number.isFinite(nablaLoss) || !Number.isFinite(jaxLoss)) throw new Error(`W7: non-finite loss (nabla ${nablaLoss}, jax-js ${jaxLoss})`);
console.log(`W7, ${built === module ? 'baseline' : 'relaxed'} SIMD nabla build, jax-js on its wasm device; 3 steps of each a round, 41 rounds; median (25th–75th percentile) of the rounds' ratios`);
console.log(`nabla ${result.ms[0]!.toFixed(2)} ms  jax-js ${result.ms[1]!.toFixed(2)} ms  jax-js / nabla ${formatRatio(result.ratios[1]!)}  (fastest rounds: nabla ${result.fastest[0]!.toFixed(2)} ms, jax-js ${result.fastest[1]!.toFixed(2)} ms)`);
