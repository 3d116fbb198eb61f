// Where a training step's time goes: every kernel of the fused program exported and timed on
// its own, after a real step filled the arena. Run: npm run bench:profile -- W1/64 [--relaxed]
// (any workload of bench/workloads.ts, or W1 at any batch: W1/1, W1/2048...)
import { parseArgs } from 'node:util';
import { compileAssemblyScript } from '../compiler/codegen/asc.ts';
import { compileToWasm } from '../compiler/compile.ts';
import { printProgram } from '../compiler/passes/fuse.ts';
import { relaxedSimd, rerunWithRelaxedSimd } from './relaxed.ts';
import { msPerCall } from './timing.ts';
import { nablaSpec, syntheticBatch, workloadNamed, WORKLOADS } from './workloads.ts';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { relaxed: { type: 'boolean' } } });
// Node 20 runs relaxed SIMD only behind a flag (refused in NODE_OPTIONS): run again with it, as bench/main.ts does.
if (values.relaxed && !relaxedSimd()) {
  const status = rerunWithRelaxedSimd();
  if (status !== null) process.exit(status);
  throw new Error('--relaxed: this host does not run relaxed SIMD, even with --experimental-wasm-relaxed-simd');
}
const w = workloadNamed(positionals[0] ?? 'W1/64');
if (!w) throw new Error(`unknown workload ${positionals[0]}; one of ${WORKLOADS.map((x) => x.name).join(', ')}, or W1/<batch>`);

const compiled = await compileToWasm(nablaSpec(w), { simd: 'baseline' });
const source = compiled.source.replace(/^function kernel(\d+)/gm, 'export function kernel$1');
const { memory } = compiled.manifest;
const { binary } = await compileAssemblyScript(source, { memoryBase: Math.ceil(memory.arenaBytes / 16) * 16, initialPages: memory.pages, simd: values.relaxed ? 'relaxed' : 'baseline' });
const exports = (await WebAssembly.instantiate(await WebAssembly.compile(binary as Uint8Array<ArrayBuffer>), {})).exports as unknown as Record<string, (n: number) => number> & { memory: WebAssembly.Memory };
exports['init']!(1);
const { x, labels } = syntheticBatch(w);
new Float32Array(exports.memory.buffer, compiled.manifest.buffers.input.offset, x.length).set(x);
const view = labels instanceof Int32Array ? Int32Array : Float32Array;
new view(exports.memory.buffer, compiled.manifest.buffers.labels.offset, labels.length).set(labels);

const step = msPerCall(() => exports['train_step']!(w.batch), 1000);
const described = new Map(printProgram(compiled.program).split('\n').map((line) => [Number(/%(\d+)/.exec(line)![1]), line.replace(/\s+/g, ' ')]));
const rows = compiled.program.kernels.map((k) => ({ ms: msPerCall(() => exports[`kernel${k.out}`]!(w.batch), 150), what: described.get(k.out)! }));
const total = rows.reduce((s, r) => s + r.ms, 0);
console.log(`${w.name} (${values.relaxed ? 'relaxed' : 'baseline'} SIMD): train_step ${step.toFixed(3)} ms; kernels timed alone sum to ${total.toFixed(3)} ms`);
for (const r of rows.sort((a, b) => b.ms - a.ms).slice(0, 15)) console.log(`${r.ms.toFixed(4).padStart(8)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)} %  ${r.what.slice(0, 150)}`);
