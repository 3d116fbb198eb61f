// Compile time and .wasm size of an unrolled LSTM (W6's: 128 units, 32 features, batch 32,
// regression on the last step) at several sequence lengths: the cost of static unrolling.
// `npm run bench:unroll [-- --steps 32,128]`.
import { parseArgs } from 'node:util';
import { compileToWasm } from '../compiler/compile.ts';
import { nablaSpec, WORKLOADS } from './workloads.ts';

const { values } = parseArgs({ options: { steps: { type: 'string' } } });
const steps = (values.steps ?? '32,128').split(',').map(Number);
const w6 = WORKLOADS.find((w) => w.name === 'W6')!;
console.log('steps | training graph nodes | kernels | compile s (asc s) | .wasm KiB');
for (const t of steps) {
  const spec = nablaSpec({ ...w6, inputs: t * w6.lstm!.features, lstm: { ...w6.lstm!, steps: t } });
  const started = performance.now();
  const compiled = await compileToWasm(spec);
  const seconds = (performance.now() - started) / 1000;
  console.log(`${t} | ${compiled.graph.nodes.length} | ${compiled.program.kernels.length} | ${seconds.toFixed(1)} (${(compiled.timings.ascMs / 1000).toFixed(1)}) | ${(compiled.wasm.length / 1024).toFixed(0)}`);
}
