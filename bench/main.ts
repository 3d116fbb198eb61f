// `npm run bench`: median ms per training step of nabla vs TensorFlow.js (wasm SIMD one thread,
// cpu) on the same workloads and data, then GEMM GFLOPS at the W1 shapes vs a peak probe.
// Options: --quick (short budgets), --only W1/64,W2 (subset), --no-tfjs, --no-gemm.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { benchGemm } from './gemm.ts';
import { benchNabla } from './nabla.ts';
import { benchTfjs, loadedWasm } from './tfjs.ts';
import { WORKLOADS } from './workloads.ts';

const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, only: { type: 'string' }, 'no-tfjs': { type: 'boolean' }, 'no-gemm': { type: 'boolean' } },
});
const budget = values.quick ? 400 : 1500;
const only = values.only?.split(',');
const workloads = WORKLOADS.filter((w) => !only || only.includes(w.name));

const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
console.log(`nabla bench · ${new Date().toISOString().slice(0, 10)} · ${cpu} · ${os.cpus().length} cores · Node ${process.version}`);
console.log(`median ms per training step (forward + backward + SGD, loss read back), same data and batch for every system\n`);

const fmt = (ms: number | undefined): string => (ms === undefined ? '—' : ms < 1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const rows: string[][] = [['workload', 'nabla ms', 'tfjs-wasm ms', 'tfjs-cpu ms', 'wasm/nabla', 'cpu/nabla', 'compile ms', '.wasm KiB']];
for (const w of workloads) {
  const nabla = await benchNabla(w, budget);
  const wasm = values['no-tfjs'] ? undefined : (await benchTfjs(w, 'wasm', budget)).ms;
  // The cpu backend is slow on the big workloads: a shorter budget keeps the whole bench short.
  const cpuMs = values['no-tfjs'] ? undefined : (await benchTfjs(w, 'cpu', budget / 2)).ms;
  const ratio = (ms: number | undefined): string => (ms === undefined ? '—' : `${(ms / nabla.ms).toFixed(1)}×`);
  rows.push([w.name, fmt(nabla.ms), fmt(wasm), fmt(cpuMs), ratio(wasm), ratio(cpuMs), nabla.compileMs.toFixed(0), (nabla.wasmBytes / 1024).toFixed(1)]);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`);
  if (i === 0) console.log(`|${widths.map((n, c) => (c === 0 ? '-'.repeat(n + 2) : `${'-'.repeat(n + 1)}:`)).join('|')}|`);
}
if (loadedWasm.length) console.log(`\ntfjs-backend-wasm loaded: ${[...new Set(loadedWasm)].map((p) => p.split('/').pop()).join(', ')} (one thread)`);

if (!values['no-gemm']) {
  console.log('');
  for (const line of await benchGemm(budget)) console.log(line);
}
