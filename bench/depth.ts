// `npm run bench:depth`: compile time and .wasm size as a model gets deeper. The model is
// 32 → d × Dense(64, tanh) → 1 with MSE and SGD, batch 32, compiled in one warm process (a
// first compile loads asc and is discarded), one SIMD build as compile() makes on this host.
// Prints each stage's time, so a stage that grows faster than the layer count shows.
// Options: --depths 1,10,100,1000 (default), --both (also the relaxed build, as compileToWasm's default).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { compileToWasm, type CompileStage } from '../compiler/compile.ts';
import { deepSpec } from './workloads.ts';

const { values } = parseArgs({ options: { depths: { type: 'string' }, both: { type: 'boolean' } } });
const depths = (values.depths ?? '1,10,100,1000').split(',').map(Number);

const simd = values.both ? 'both' : 'baseline';
console.log(`nabla depth sweep · ${new Date().toISOString()} · ${os.cpus()[0]?.model ?? 'cpu'} · ${os.cpus().length} cores · Node ${process.version} · load ${os.loadavg()[0]!.toFixed(1)}`);
console.log(`32 → d × Dense(64, tanh) → 1, batch 32, simd '${simd}', warm process\n`);
await compileToWasm(deepSpec(1), { simd });
const header = ['d', 'compile s', '.wasm KiB', 'source lines', 'heap MiB', 'stages (s)'];
console.log(header.join(' | '));
for (const d of depths) {
  const times: [CompileStage | 'end', number][] = [];
  const t0 = performance.now();
  const result = await compileToWasm(deepSpec(d), { simd, onStage: (s) => times.push([s, performance.now()]) });
  const total = performance.now() - t0;
  times.push(['end', performance.now()]);
  const stages = times.slice(0, -1).map(([s, t], i) => `${s} ${((times[i + 1]![1] - t) / 1000).toFixed(2)}`);
  const heap = process.memoryUsage().heapUsed / 2 ** 20;
  console.log([d, (total / 1000).toFixed(2), (result.wasm.length / 1024).toFixed(1), result.source.split('\n').length, heap.toFixed(0), stages.join(', ')].join(' | '));
}
