// The depth sweep: compile time and .wasm size as a model gets deeper. The model is
// 32 → d × Dense(64, tanh) → 1 with MSE and SGD, batch 32 (bench/workloads.ts deepSpec),
// compiled in one warm process (a first compile loads asc and is discarded), one SIMD build as
// compile() makes on this host. Each stage's time is printed, so a stage that grows faster than
// the layer count shows. Part of `npm run bench` (--no-depth skips it); alone:
//   npm run bench:depth -- [--depths 1,10,100,1000] [--both]   (--both: also the relaxed build)
import os from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { compileToWasm, type CompileStage } from '../compiler/compile.ts';
import { deepSpec } from './workloads.ts';

export const DEPTHS: readonly number[] = [1, 10, 100, 1000];

export async function benchDepth(depths: readonly number[] = DEPTHS, simd: 'baseline' | 'both' = 'baseline'): Promise<string[]> {
  const lines = [
    `depth sweep · 32 → d × Dense(64, tanh) → 1, batch 32, simd '${simd}', warm process · load ${os.loadavg()[0]!.toFixed(1)}`,
    ['d', 'compile s', '.wasm KiB', 'source lines', 'heap MiB', 'stages (s)'].join(' | '),
  ];
  await compileToWasm(deepSpec(1), { simd });
  for (const d of depths) {
    const times: [CompileStage | 'end', number][] = [];
    const t0 = performance.now();
    const result = await compileToWasm(deepSpec(d), { simd, onStage: (s) => times.push([s, performance.now()]) });
    const total = performance.now() - t0;
    times.push(['end', performance.now()]);
    const stages = times.slice(0, -1).map(([s, t], i) => `${s} ${((times[i + 1]![1] - t) / 1000).toFixed(2)}`);
    const heap = process.memoryUsage().heapUsed / 2 ** 20;
    lines.push([d, (total / 1000).toFixed(2), (result.wasm.length / 1024).toFixed(1), result.source.split('\n').length, heap.toFixed(0), stages.join(', ')].join(' | '));
  }
  return lines;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { depths: { type: 'string' }, both: { type: 'boolean' } } });
  console.log(`nabla depth sweep · ${new Date().toISOString()} · ${os.cpus()[0]?.model ?? 'cpu'} · ${os.cpus().length} cores · Node ${process.version}`);
  const depths = values.depths?.split(',').map(Number) ?? DEPTHS;
  for (const line of await benchDepth(depths, values.both ? 'both' : 'baseline')) console.log(line);
}
