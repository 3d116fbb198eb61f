// Before and after a change to the GEMM generator, product by product in one process: the code
// another git revision (default HEAD) emits for each matmul of the W1 layers, W7's dense layers and
// the W5 conv layers (each as in a model compiled at the batch it runs), against the working tree's,
// compiled into one module and run in alternating rounds, so a burst of load from elsewhere on a
// shared machine cancels out of each round's ratio.
//
//   npm run bench:ab:gemm -- [--base <rev>] [--only <label substring>] [--batches 1,8,64,256,2048] [--baseline]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileAssemblyScript, kernelExports } from '../compiler/codegen/asc.ts';
import { BATCH, type Dim } from '../compiler/ir/types.ts';
import type { MatmulAttrs } from '../compiler/ops/matmul.ts';
import { GEMM_MEMORY_BASE, matmulCall, w1Products } from './gemm.ts';
import { relaxedSimd, rerunWithRelaxedSimd } from './relaxed.ts';
import { formatRatio, pairedRounds } from './timing.ts';
import { convFlops, convGeometry, WORKLOADS } from './workloads.ts';

const { values } = parseArgs({
  options: { base: { type: 'string', default: 'HEAD' }, only: { type: 'string' }, batches: { type: 'string', default: '1,8,64,256,2048' }, baseline: { type: 'boolean' } },
});
if (!values.baseline) {
  const status = rerunWithRelaxedSimd();
  if (status !== null) process.exit(status);
}
const simd = !values.baseline && relaxedSimd() ? 'relaxed' : 'baseline';
const repo = fileURLToPath(new URL('..', import.meta.url));
const git = (...args: string[]): string => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
const commit = git('rev-parse', '--verify', `${values.base}^{commit}`);
const tree = fileURLToPath(new URL(`../.bench-ab/${commit}/`, import.meta.url));
if (!existsSync(tree)) git('worktree', 'add', '--detach', tree, commit);
const base = (await import(pathToFileURL(`${tree}bench/gemm.ts`).href)) as { matmulCall: typeof matmulCall };

interface Case {
  readonly label: string;
  readonly shapes: [Dim[], Dim[]];
  readonly attrs: MatmulAttrs;
  readonly batch: number;
  readonly flops: number;
}

const cases: Case[] = [];
for (const batch of values.batches.split(',').map(Number)) {
  for (const p of w1Products()) for (const l of p.layers) cases.push({ label: `W1 batch ${batch} ${p.label} ${l.fanIn}→${l.units}`, shapes: p.shapes(l.fanIn, l.units), attrs: p.attrs, batch, flops: 2 * batch * l.fanIn * l.units });
}
// W7's dense layers (bench/transformer.ts): rows [n, 16] (context 16), at batch 32.
for (const [fanIn, units] of [[64, 192], [64, 64], [64, 128], [128, 64]] as const) {
  const flops = 2 * 32 * 16 * fanIn * units;
  const label = `W7 ${fanIn}→${units}`;
  cases.push({ label: `${label} forward`, shapes: [[BATCH, 16, fanIn], [units, fanIn]], attrs: { transB: true }, batch: 32, flops });
  cases.push({ label: `${label} input grad`, shapes: [[BATCH, 16, units], [units, fanIn]], attrs: {}, batch: 32, flops });
  cases.push({ label: `${label} weight grad`, shapes: [[BATCH, 16, units], [BATCH, 16, fanIn]], attrs: { transA: true }, batch: 32, flops });
}
const w5 = WORKLOADS.find((w) => w.name === 'W5')!;
for (const c of convGeometry(w5).convs) {
  const [oh, ow, out] = c.output;
  const patch = c.input[2] * c.kernel * c.kernel;
  const name = `W5 conv ${c.index + 1}`;
  const flops = convFlops(c, w5.batch);
  cases.push({ label: `${name} forward`, shapes: [[BATCH, oh, ow, patch], [out, patch]], attrs: { transB: true }, batch: w5.batch, flops });
  if (c.index > 0) cases.push({ label: `${name} input grad`, shapes: [[BATCH, oh, ow, out], [out, patch]], attrs: {}, batch: w5.batch, flops });
  cases.push({ label: `${name} weight grad`, shapes: [[BATCH, oh, ow, out], [BATCH, oh, ow, patch]], attrs: { transA: true }, batch: w5.batch, flops });
}
const chosen = cases.filter((c) => !values.only || values.only.split(',').some((o) => c.label.includes(o)));

const imports = Object.entries(kernelExports()).map(([file, names]) => `import { ${names.join(', ')} } from './${file}';`);
const fn = (name: string, code: string): string => `export function ${name}(n: i32, reps: i32): void {\n  for (let r = 0; r < reps; r++) {\n${code}\n  }\n}`;
const source = [...imports, ...chosen.flatMap((c, k) => [fn(`a${k}`, base.matmulCall(c.shapes, c.attrs, c.batch)), fn(`b${k}`, matmulCall(c.shapes, c.attrs, c.batch))])].join('\n');
const { binary } = await compileAssemblyScript(source, { memoryBase: GEMM_MEMORY_BASE, initialPages: GEMM_MEMORY_BASE / 65536 + 1, simd });
const exports = (await WebAssembly.instantiate(await WebAssembly.compile(binary as Uint8Array<ArrayBuffer>), {})).exports as unknown as Record<string, (n: number, reps: number) => void> & { memory: WebAssembly.Memory };
// Operands of moderate magnitude, so no denormals or overflow slow anything down.
const f32 = new Float32Array(exports.memory.buffer);
for (let i = 0; i < f32.length; i++) f32[i] = ((i * 7919) % 1000) / 1000 - 0.5;

console.log(`A = ${git('log', '-1', '--format=%h %s', commit).slice(0, 72)}\nB = working tree\n${simd} SIMD; GFLOPS of B (median, and of its fastest round) and ratio of times B/A per round, median (25th–75th percentile) of 41 rounds, and of the fastest rounds (a loaded machine interrupts most rounds)\n`);
const width = Math.max(...chosen.map((c) => c.label.length));
chosen.forEach((c, k) => {
  const [a, b] = [exports[`a${k}`]!, exports[`b${k}`]!];
  const reps = Math.max(1, Math.round(5e6 / c.flops));
  const result = pairedRounds([() => a(c.batch, reps), () => b(c.batch, reps)], 1, 41, 3);
  const gflops = (c.flops * reps) / result.ms[1]! / 1e6;
  const fastest = (c.flops * reps) / result.fastest[1]! / 1e6;
  const ratio = (result.fastest[1]! / result.fastest[0]!).toFixed(3);
  console.log(`${c.label.padEnd(width)}  B ${gflops.toFixed(1).padStart(5)} GFLOPS (fastest ${fastest.toFixed(1).padStart(5)})  B/A ${formatRatio(result.ratios[1]!)}, fastest rounds ×${ratio}`);
});
