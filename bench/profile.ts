// Where a training step's time goes: every step the bare train_step runs, timed on its own
// through the exported step table, after a real step filled the arena: alone (called again and
// again) and in step (the step's kernels called in order, each timed where it runs).
// Run: npm run bench:profile -- W1/64 [--relaxed] [--rows n] [--threads n]
// (--rows: how many kernels to list, 15 by default; --threads n: the threaded build, each kernel
// timed on one thread and on n, on the same instance, listed by what it pays in step on n
// threads beyond its time alone: the cost of reading and writing memory another core last held)
// (any workload of bench/workloads.ts, W1 at any batch: W1/1, W1/2048..., or W7)
import { parseArgs } from 'node:util';
import { compileAssemblyScript } from '../compiler/codegen/asc.ts';
import { compileToWasm } from '../compiler/compile.ts';
import { printProgram } from '../compiler/passes/fuse.ts';
import { readManifest } from '../runtime/manifest.ts';
import { threadSupport, WorkerPool, type ThreadedExports } from '../runtime/worker_pool.ts';
import { relaxedSimd, rerunWithRelaxedSimd } from './relaxed.ts';
import { threadedBuild } from './nabla_builds.ts';
import { median, msPerCall } from './timing.ts';
import { w7Spec } from './transformer.ts';
import { W7, w7Batch } from './w7_model.ts';
import { nablaSpec, syntheticBatch, workloadNamed, WORKLOADS } from './workloads.ts';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { relaxed: { type: 'boolean' }, rows: { type: 'string', default: '15' }, threads: { type: 'string', default: '1' } } });
const threads = Number(values.threads);
if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads: a whole number of threads ≥ 1, not '${values.threads}'`);
// Node 20 runs relaxed SIMD only behind a flag (refused in NODE_OPTIONS): run again with it, as bench/main.ts does.
if (values.relaxed && !relaxedSimd()) {
  const status = rerunWithRelaxedSimd();
  if (status !== null) process.exit(status);
  throw new Error('--relaxed: this host does not run relaxed SIMD, even with --experimental-wasm-relaxed-simd');
}
const name = positionals[0] ?? 'W1/64';
const w = name === W7.name ? undefined : workloadNamed(name);
if (!w && name !== W7.name) throw new Error(`unknown workload ${name}; one of ${[...WORKLOADS.map((x) => x.name), W7.name].join(', ')}, or W1/<batch>`);
const batch = w ? w.batch : W7.batch;

const compiled = await compileToWasm(w ? nablaSpec(w) : w7Spec(), { simd: 'baseline', threaded: threads > 1 });
const compiledSource = threads > 1 ? compiled.threadedSource! : compiled.source;
// Kernels run through the module's step table (compiler/codegen/kernel_table.ts): `run` exported
// runs steps [from, to). Every step line counts for the index; the steps timed are those the bare
// `train_step` runs, so the weight-gradient GEMMs with the SGD update in their epilogue ('fused'
// steps) are timed as the step runs them, not the separate gradient and update kernels.
const source = compiledSource.replace(/^function run\(/m, 'export function run(');
const steps = [...compiledSource.matchAll(/^ {2}\d+, \d+, \/\/ \w+ → (\w+ )?%(\d+)$/gm)].map((m) => ({ role: m[1]?.trim() ?? 'kernel', id: Number(m[2]) }));
const trainRun = /export function train_step\(n: i32\): f32 \{\n[^\n]*\n {2}run\(n, (\d+), (\d+)\);/.exec(compiledSource);
if (!trainRun) throw new Error('internal: train_step does not run one range of the step table');
const [from, to] = [Number(trainRun[1]), Number(trainRun[2])];
const { memory } = compiled.manifest;
// The threaded build's control block lies after the arena and the guard's words, outside the
// module's static data: the build's own manifest says where.
const threadedManifest = threads > 1 ? readManifest(await threadedBuild(await WebAssembly.compile(compiled.wasm), false)) : undefined;
const dataBase = threadedManifest?.threads ? threadedManifest.threads.offset + threadedManifest.threads.bytes : memory.arenaBytes;
const { binary } = await compileAssemblyScript(source, { memoryBase: Math.ceil(dataBase / 16) * 16, initialPages: memory.pages, simd: values.relaxed ? 'relaxed' : 'baseline', threaded: threads > 1 });
const module = await WebAssembly.compile(binary as Uint8Array<ArrayBuffer>);
const shared = threads > 1 ? new WebAssembly.Memory({ initial: memory.pages, maximum: memory.pages, shared: true }) : undefined;
const exports = (await WebAssembly.instantiate(module, shared ? { env: { memory: shared } } : {})).exports as unknown as Record<string, (n: number, ...more: number[]) => number> & { memory: WebAssembly.Memory } & ThreadedExports;
exports['init']!(1);
const heap = (shared ?? exports.memory).buffer;
if (w) {
  const { x, labels } = syntheticBatch(w);
  new Float32Array(heap, compiled.manifest.buffers.input.offset, x.length).set(x);
  const view = labels instanceof Int32Array ? Int32Array : Float32Array;
  new view(heap, compiled.manifest.buffers.labels.offset, labels.length).set(labels);
} else {
  // W7's token ids and next-token labels (bench/transformer.ts).
  const { ids, labels } = w7Batch();
  new Int32Array(heap, compiled.manifest.buffers.input.offset, ids.length).set(ids);
  new Int32Array(heap, compiled.manifest.buffers.labels.offset, labels.length).set(labels);
}

// The threaded build: its workers start, and each kernel is timed on one thread (no workers
// configured: every step runs whole, on the caller) and on all of them.
const support = threadSupport();
if (threads > 1 && !support.ok) throw new Error(`--threads: threads cannot run here: ${support.reason}`);
const pool = threads > 1 && support.ok ? await WorkerPool.start(support.host, module, shared!, exports, threads - 1, true) : undefined;
const onThreads = (count: number): void => exports.threads_configure(count - 1, 1, 0);
const described = new Map(printProgram(compiled.program).split('\n').map((line) => [Number(/%(\d+)/.exec(line)![1]), line.replace(/\s+/g, ' ')]));
const runStep = (s: number): number => exports['run']!(batch, s, s + 1);
const updateOf = new Map([...compiledSource.matchAll(/^\/\/ %(\d+) with the update %(\d+) in its epilogue/gm)].map((m) => [Number(m[1]), Number(m[2])]));
/**
 * Median ms of the whole step, of each kernel alone (called again and again: its operands in
 * this core's cache), and of each kernel in step (the step's kernels called in order, each timed:
 * its operands where the kernels before left them, in the other core's cache too on n threads).
 */
function timed(count: number): { step: number; kernels: number[]; inStep: number[] } {
  if (pool) onThreads(count);
  const step = msPerCall(() => exports['train_step']!(batch), 1000);
  const kernels = steps.slice(from, to).map((_, k) => msPerCall(() => runStep(from + k), 150));
  const samples: number[][] = kernels.map(() => []);
  for (let pass = 0; pass < IN_STEP_PASSES; pass++) {
    for (let k = from; k < to; k++) {
      const t0 = performance.now();
      runStep(k);
      samples[k - from]!.push(performance.now() - t0);
    }
  }
  return { step, kernels, inStep: samples.map(median) };
}
const IN_STEP_PASSES = 200;
// A first round warms the module up (its optimized code, the arena in cache); then 1 thread and n.
timed(1);
const one = timed(1);
const many = pool ? timed(threads) : undefined;
pool?.stop();
const rows = steps.slice(from, to).map((s, k) => ({
  ms: one.kernels[k]!,
  inStep: one.inStep[k]!,
  threaded: many ? { ms: many.kernels[k]!, inStep: many.inStep[k]! } : undefined,
  what: s.role === 'fused' ? `fused ${described.get(s.id)!} + update %${updateOf.get(s.id)} in the epilogue` : described.get(s.id)!,
}));
const sum = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0);
const total = sum(one.kernels);
console.log(`${name} (${values.relaxed ? 'relaxed' : 'baseline'} SIMD${pool ? ', threaded build' : ''}): train_step ${one.step.toFixed(3)} ms; kernels timed alone sum to ${total.toFixed(3)} ms, in step ${sum(one.inStep).toFixed(3)} ms`);
if (many) {
  const manyTotal = sum(many.kernels);
  console.log(`on ${threads} threads: train_step ${many.step.toFixed(3)} ms (×${(many.step / one.step).toFixed(3)}); kernels timed alone sum to ${manyTotal.toFixed(3)} ms (×${(manyTotal / total).toFixed(3)}), in step ${sum(many.inStep).toFixed(3)} ms`);
  console.log(`in step on ${threads} threads minus alone, the largest first (what a kernel pays for operands another core wrote):`);
  console.log(`   1 thread: alone   in step | ${threads} threads: alone   in step  (µs)  kernel`);
}
const µs = (ms: number): string => (ms * 1000).toFixed(1).padStart(8);
const ordered = many ? rows.sort((a, b) => b.threaded!.inStep - b.threaded!.ms - (a.threaded!.inStep - a.threaded!.ms)) : rows.sort((a, b) => b.ms - a.ms);
for (const r of ordered.slice(0, Number(values.rows))) {
  if (r.threaded) console.log(`   ${µs(r.ms)} ${µs(r.inStep)} |    ${µs(r.threaded.ms)} ${µs(r.threaded.inStep)}        ${r.what.slice(0, 130)}`);
  else console.log(`${r.ms.toFixed(4).padStart(8)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)} %  in step ${r.inStep.toFixed(4)} ms  ${r.what.slice(0, 140)}`);
}
