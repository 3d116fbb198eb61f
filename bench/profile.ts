// Where a training step's time goes: every step the bare train_step runs, timed on its own
// through the exported step table, after a real step filled the arena. Run: npm run bench:profile -- W1/64 [--relaxed] [--rows n]
// (--rows: how many of the largest kernels to list, 15 by default)
// (any workload of bench/workloads.ts, W1 at any batch: W1/1, W1/2048..., or W7)
import { parseArgs } from 'node:util';
import { compileAssemblyScript } from '../compiler/codegen/asc.ts';
import { compileToWasm } from '../compiler/compile.ts';
import { printProgram } from '../compiler/passes/fuse.ts';
import { relaxedSimd, rerunWithRelaxedSimd } from './relaxed.ts';
import { msPerCall } from './timing.ts';
import { w7Spec } from './transformer.ts';
import { W7, w7Batch } from './w7_model.ts';
import { nablaSpec, syntheticBatch, workloadNamed, WORKLOADS } from './workloads.ts';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { relaxed: { type: 'boolean' }, rows: { type: 'string', default: '15' } } });
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

const compiled = await compileToWasm(w ? nablaSpec(w) : w7Spec(), { simd: 'baseline' });
// Kernels run through the module's step table (compiler/codegen/kernel_table.ts): `run` exported
// runs steps [from, to). Every step line counts for the index; the steps timed are those the bare
// `train_step` runs, so the weight-gradient GEMMs with the SGD update in their epilogue ('fused'
// steps) are timed as the step runs them, not the separate gradient and update kernels.
const source = compiled.source.replace(/^function run\(/m, 'export function run(');
const steps = [...compiled.source.matchAll(/^ {2}\d+, \d+, \/\/ \w+ → (\w+ )?%(\d+)$/gm)].map((m) => ({ role: m[1]?.trim() ?? 'kernel', id: Number(m[2]) }));
const trainRun = /export function train_step\(n: i32\): f32 \{\n[^\n]*\n {2}run\(n, (\d+), (\d+)\);/.exec(compiled.source);
if (!trainRun) throw new Error('internal: train_step does not run one range of the step table');
const [from, to] = [Number(trainRun[1]), Number(trainRun[2])];
const { memory } = compiled.manifest;
const { binary } = await compileAssemblyScript(source, { memoryBase: Math.ceil(memory.arenaBytes / 16) * 16, initialPages: memory.pages, simd: values.relaxed ? 'relaxed' : 'baseline' });
const exports = (await WebAssembly.instantiate(await WebAssembly.compile(binary as Uint8Array<ArrayBuffer>), {})).exports as unknown as Record<string, (n: number, ...more: number[]) => number> & { memory: WebAssembly.Memory };
exports['init']!(1);
if (w) {
  const { x, labels } = syntheticBatch(w);
  new Float32Array(exports.memory.buffer, compiled.manifest.buffers.input.offset, x.length).set(x);
  const view = labels instanceof Int32Array ? Int32Array : Float32Array;
  new view(exports.memory.buffer, compiled.manifest.buffers.labels.offset, labels.length).set(labels);
} else {
  // W7's token ids and next-token labels (bench/transformer.ts).
  const { ids, labels } = w7Batch();
  new Int32Array(exports.memory.buffer, compiled.manifest.buffers.input.offset, ids.length).set(ids);
  new Int32Array(exports.memory.buffer, compiled.manifest.buffers.labels.offset, labels.length).set(labels);
}

const step = msPerCall(() => exports['train_step']!(batch), 1000);
const described = new Map(printProgram(compiled.program).split('\n').map((line) => [Number(/%(\d+)/.exec(line)![1]), line.replace(/\s+/g, ' ')]));
const runStep = (s: number): number => exports['run']!(batch, s, s + 1);
const updateOf = new Map([...compiled.source.matchAll(/^\/\/ %(\d+) with the update %(\d+) in its epilogue/gm)].map((m) => [Number(m[1]), Number(m[2])]));
const rows = steps.slice(from, to).map((s, k) => ({
  ms: msPerCall(() => runStep(from + k), 150),
  what: s.role === 'fused' ? `fused ${described.get(s.id)!} + update %${updateOf.get(s.id)} in the epilogue` : described.get(s.id)!,
}));
const total = rows.reduce((s, r) => s + r.ms, 0);
console.log(`${name} (${values.relaxed ? 'relaxed' : 'baseline'} SIMD): train_step ${step.toFixed(3)} ms; kernels timed alone sum to ${total.toFixed(3)} ms`);
for (const r of rows.sort((a, b) => b.ms - a.ms).slice(0, Number(values.rows))) console.log(`${r.ms.toFixed(4).padStart(8)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)} %  ${r.what.slice(0, 150)}`);
