// `npm run bench`: median ms per training step of nabla vs TensorFlow.js (wasm SIMD one thread,
// cpu) and jax-js (wasm device) on the same workloads and data, then GEMM GFLOPS at the W1 shapes
// and at each conv layer of the image workloads (W4, W5) vs a peak probe (W6, an LSTM, prints its
// GEMM GFLOPS per step; W7 is the transformer of examples/words, bench/transformer.ts), then what fit and
// trainStep cost against the bare train_step loop (bench/fit.ts; also `npm run bench:fit`),
// then the W1 batch sweep (batch 1 to 2048, step time against its FLOP time at the probe's rate).
// Options: --quick (short budgets), --only W1/64,W2 (subset), --no-tfjs, --no-jax, --no-gemm,
// --no-fit, --no-sweep, --sweep-only (the sweep alone), --no-depth, --no-relaxed.
// Last, the depth sweep: compile time and .wasm size at depth 1, 10, 100, 1000 (bench/depth.ts).
// --threads 1,2[,N] prints the threads table alone (bench/threads.ts): every --only workload (default
// W1/64, W1/256, W2, iris) on those thread counts beside its single-threaded build; --min-work a,b
// adds threaded variants with those least multiply-adds per part.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { benchConvGemm } from './conv.ts';
import { benchDepth } from './depth.ts';
import { benchFit } from './fit.ts';
import { benchGemm } from './gemm.ts';
import { benchJax, jaxVersion } from './jax.ts';
import { initJax, jaxThreads } from './jax_device.ts';
import { benchNabla } from './nabla.ts';
import { relaxedSimd, rerunWithRelaxedSimd } from './relaxed.ts';
import { benchW1Sweep } from './sweep.ts';
import { benchThreads } from './threads.ts';
import { benchTfjs, loadedWasm } from './tfjs.ts';
import { benchJaxW7, benchNablaW7, benchTfjsW7, w7Flops } from './transformer.ts';
import { W7 } from './w7_model.ts';
import { stepGemmFlops, WORKLOADS } from './workloads.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    only: { type: 'string' },
    'no-tfjs': { type: 'boolean' },
    'no-jax': { type: 'boolean' },
    'no-gemm': { type: 'boolean' },
    'no-fit': { type: 'boolean' },
    'no-sweep': { type: 'boolean' },
    'no-depth': { type: 'boolean' },
    'sweep-only': { type: 'boolean' },
    'no-relaxed': { type: 'boolean' },
    threads: { type: 'string' },
    'min-work': { type: 'string' },
  },
});
// Node 20 runs relaxed SIMD only behind a flag (refused in NODE_OPTIONS): run again with it.
if (!values['no-relaxed']) {
  const status = rerunWithRelaxedSimd();
  if (status !== null) process.exit(status);
}
const budget = values.quick ? 400 : 1500;
const only = values.only?.split(',');
const workloads = WORKLOADS.filter((w) => !only || only.includes(w.name));
const relaxed = relaxedSimd();

if (values.threads !== undefined) {
  const counts = values.threads.split(',').map(Number);
  const minWorks = values['min-work']?.split(',').map(Number) ?? [0];
  for (const line of await benchThreads(only ?? ['W1/64', 'W1/256', 'W2', 'iris'], counts, minWorks)) console.log(line);
  process.exit(0);
}

const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
console.log(`nabla bench · ${new Date().toISOString().slice(0, 10)} · ${cpu} · ${os.cpus().length} cores · Node ${process.version} · relaxed SIMD ${relaxed ? 'on' : 'off'}`);
if (!values['sweep-only']) {
  console.log(`median ms per training step (forward + backward + SGD, loss read back), same data and batch for every system`);
  console.log(`nabla = the build loadTrainer picks here (${relaxed ? 'relaxed SIMD' : 'baseline SIMD'}); ratios are system ms / nabla ms\n`);
}

/** The W1 batch sweep, on the build loadTrainer picks here. */
async function sweep(): Promise<void> {
  if (values['no-sweep']) return;
  console.log('');
  for (const line of await benchW1Sweep(budget, relaxed ? 'relaxed' : 'baseline')) console.log(line);
}
if (values['sweep-only']) {
  await sweep();
  process.exit(0);
}

// jax-js runs only if its wasm device starts here; otherwise its columns show '—' and one line says why.
let jaxSkipped: string | undefined = values['no-jax'] ? '--no-jax' : undefined;
let jaxDevice = '';
if (!jaxSkipped) {
  try {
    jaxDevice = await initJax();
  } catch (e) {
    jaxSkipped = `its wasm device failed to start under Node ${process.version}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
}
const jaxLosses: string[] = [];

const fmt = (ms: number | undefined): string => (ms === undefined ? '—' : ms < 1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const header = ['workload', 'nabla ms', 'nabla baseline ms', 'tfjs-wasm ms', 'tfjs-cpu ms', 'jax-js ms', 'tfjs-wasm / nabla', 'tfjs-cpu / nabla', 'jax-js / nabla', 'compile ms', '.wasm KiB'];
const rows: string[][] = [header];
const notes: string[] = [];
for (const w of workloads) {
  const nabla = await benchNabla(w, budget);
  const best = nabla.ms.relaxed ?? nabla.ms.baseline;
  // tfjs-backend-wasm has no Conv2DBackpropFilter kernel: it cannot train a convolution at all.
  let wasm: number | undefined;
  if (!values['no-tfjs']) {
    try {
      wasm = (await benchTfjs(w, 'wasm', budget)).ms;
    } catch (e) {
      notes.push(`tfjs-wasm cannot train ${w.name}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  // The cpu backend is slow on the big workloads: a shorter budget keeps the whole bench short;
  // its convolutions take seconds per step, timed once after a warm-up step.
  const cpuMs = values['no-tfjs'] ? undefined : (await benchTfjs(w, 'cpu', budget / 2, w.image !== undefined)).ms;
  if (cpuMs !== undefined && w.image) notes.push(`tfjs-cpu ${w.name}: one step timed after one warm-up step (${(cpuMs / 1000).toFixed(1)} s)`);
  let jax: number | undefined;
  if (!jaxSkipped) {
    const r = await benchJax(w, budget);
    if (r.device !== jaxDevice) throw new Error(`jax-js ${w.name}: ran on ${r.device}, not ${jaxDevice}`);
    jax = r.ms;
    jaxLosses.push(`${w.name} ${r.first.toFixed(3)} → ${r.loss.toFixed(3)}`);
  }
  if (w.lstm) notes.push(`${w.name}: ${(stepGemmFlops(w) / 1e6).toFixed(0)} MFLOP of matrix products per step (input projection, recurrent products, their gradients): ${(stepGemmFlops(w) / best / 1e6).toFixed(2)} GFLOPS at nabla's step time`);
  const ratio = (ms: number | undefined): string => (ms === undefined ? '—' : `${(ms / best).toFixed(1)}×`);
  rows.push([w.name, fmt(best), fmt(nabla.ms.baseline), fmt(wasm), fmt(cpuMs), fmt(jax), ratio(wasm), ratio(cpuMs), ratio(jax), nabla.compileMs.toFixed(0), (nabla.wasmBytes / 1024).toFixed(1)]);
}
// W7, the transformer of examples/words, written for each system in bench/transformer.ts.
if (!only || only.includes(W7.name)) {
  const nabla = await benchNablaW7(budget);
  const best = nabla.ms.relaxed ?? nabla.ms.baseline;
  const attempt = async (system: string, run: () => Promise<number>): Promise<number | undefined> => {
    try {
      return await run();
    } catch (e) {
      notes.push(`${system} cannot train W7: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      return undefined;
    }
  };
  const wasm = values['no-tfjs'] ? undefined : await attempt('tfjs-wasm', () => benchTfjsW7('wasm', budget));
  const cpuMs = values['no-tfjs'] ? undefined : await attempt('tfjs-cpu', () => benchTfjsW7('cpu', budget / 2));
  const jax = jaxSkipped ? undefined : await attempt('jax-js', async () => (await benchJaxW7(budget)).ms);
  const ratio = (ms: number | undefined): string => (ms === undefined ? '—' : `${(ms / best).toFixed(1)}×`);
  rows.push([W7.name, fmt(best), fmt(nabla.ms.baseline), fmt(wasm), fmt(cpuMs), fmt(jax), ratio(wasm), ratio(cpuMs), ratio(jax), nabla.compileMs.toFixed(0), (nabla.wasmBytes / 1024).toFixed(1)]);
  notes.push(`W7 (2-block causal transformer, context 16, width 64, batch 32): ${(w7Flops() / 1e6).toFixed(0)} MFLOP of products per step, nabla ${(w7Flops() / best / 1e6).toFixed(2)} GFLOPS`);
}
const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`);
  if (i === 0) console.log(`|${widths.map((n, c) => (c === 0 ? '-'.repeat(n + 2) : `${'-'.repeat(n + 1)}:`)).join('|')}|`);
}
console.log(`\ncompile = spec → .wasm with both SIMD builds, in process; .wasm holds both builds`);
for (const note of notes) console.log(note);
if (loadedWasm.length) console.log(`tfjs-backend-wasm loaded: ${[...new Set(loadedWasm)].map((p) => p.split('/').pop()).join(', ')} (one thread)`);
if (jaxSkipped) console.log(`jax-js skipped: ${jaxSkipped}`);
else console.log(`jax-js ${jaxVersion()} ran on its ${jaxDevice} device, ${jaxThreads()}; the whole step under jit; loss, first → last timed step: ${jaxLosses.join(', ')}`);

if (!values['no-gemm']) {
  const images = workloads.filter((w) => w.image).map((w) => w.name);
  for (const simd of relaxed ? (['baseline', 'relaxed'] as const) : (['baseline'] as const)) {
    console.log('');
    if (!only || workloads.some((w) => w.name.startsWith('W1'))) for (const line of await benchGemm(budget, simd)) console.log(line);
    if (images.length) for (const line of await benchConvGemm(budget, simd, images)) console.log(line);
  }
}

if (!values['no-fit']) {
  console.log('\nfit and trainStep against the bare train_step loop (bench/fit.ts)');
  // --only applies here too: W1/64 and iris (not a table workload) are the names.
  for (const line of await benchFit(only ? { only } : {})) console.log(line);
}

await sweep();

if (!values['no-depth']) {
  console.log('');
  for (const line of await benchDepth()) console.log(line);
}
