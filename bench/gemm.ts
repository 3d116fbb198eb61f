// GEMM GFLOPS at the W1 shapes, through the very code codegen emits for a matmul, next to an
// in-process f32x4 peak probe (independent mul+add chains, no memory traffic).
import { compileAssemblyScript, kernelExports, type SimdFlavour } from '../compiler/codegen/asc.ts';
import { BATCH, type Dim, type Node } from '../compiler/ir/types.ts';
import { emitMatmul } from '../compiler/codegen/matmul.ts';
import { matmul, type MatmulAttrs } from '../compiler/ops/matmul.ts';
import { median } from './timing.ts';

const W1 = [784, 256, 128, 10];
const PAGE = 65536;
// Room for the largest operand timed: W5's patch matrix at batch 32 (32·32·32·288 floats, 36 MiB).
const REGION = 48 << 20;
const [A, B, C, SCRATCH] = [REGION, 2 * REGION, 3 * REGION, 4 * REGION] as const;
/** Where AssemblyScript's own data goes in a module of timed products: above the four operand regions. */
export const GEMM_MEMORY_BASE = SCRATCH + REGION;
const CHAINS = 12;

interface Product {
  readonly label: string;
  readonly attrs: MatmulAttrs;
  /** Shapes of the two operands, 'N' the batch. */
  readonly shapes: (fanIn: number, units: number) => [Dim[], Dim[]];
  readonly layers: readonly number[];
}

// The three products of a dense layer; the first layer needs no input gradient.
export const PRODUCTS: readonly Product[] = [
  { label: 'X·Wᵀ (forward)', attrs: { transB: true }, shapes: (i, u) => [[BATCH, i], [u, i]], layers: [0, 1, 2] },
  { label: 'dY·W (input grad)', attrs: {}, shapes: (i, u) => [[BATCH, u], [u, i]], layers: [1, 2] },
  { label: 'dYᵀ·X (weight grad)', attrs: { transA: true }, shapes: (i, u) => [[BATCH, u], [BATCH, i]], layers: [0, 1, 2] },
];

const operand = (id: number, shape: Dim[]): Node<'input'> => ({ id, op: 'input', inputs: [], attrs: { name: `x${id}`, shape, dtype: 'f32' }, shape, dtype: 'f32' });
const product = (shape: Dim[], attrs: MatmulAttrs): Node<'matmul'> => ({ id: 2, op: 'matmul', inputs: [0, 1], attrs: { ...attrs }, shape, dtype: 'f32' });

/**
 * The AssemblyScript of one matmul at these operand shapes, as codegen emits it (operands at A
 * and B, result at C), for a model compiled at `batchSize` where given (else any batch).
 */
export function matmulCall(shapes: readonly [Dim[], Dim[]], attrs: MatmulAttrs, batchSize?: number): string {
  const inputs = shapes.map((shape, id) => operand(id, shape));
  const shape = matmul.shape(inputs.map((n) => ({ shape: n.shape, dtype: 'f32' })), attrs).shape;
  return emitMatmul({ node: product([...shape], attrs), inputs, out: String(C), ins: [String(A), String(B)], scratch: String(SCRATCH), attrs, dim: (d) => (d === BATCH ? 'n' : String(d)), ...(batchSize === undefined ? {} : { batchSize }) });
}

/** The W1 layers each product runs on: fan-in and units. */
export function w1Products(): { label: string; attrs: MatmulAttrs; shapes: Product['shapes']; layers: { fanIn: number; units: number }[] }[] {
  return PRODUCTS.map((p) => ({ ...p, layers: p.layers.map((l) => ({ fanIn: W1[l]!, units: W1[l + 1]! })) }));
}

function productCalls(p: Product): { code: string; flopsPerRow: number } {
  let flopsPerRow = 0;
  const calls = p.layers.map((l) => {
    flopsPerRow += 2 * W1[l]! * W1[l + 1]!;
    return `    ${matmulCall(p.shapes(W1[l]!, W1[l + 1]!), p.attrs)}`;
  });
  return { code: calls.join('\n'), flopsPerRow };
}

function probeSource(): string {
  const accs = Array.from({ length: CHAINS }, (_, i) => i);
  return [
    `export function peak(iters: i32): f32 {`,
    `  const m = f32x4.splat(<f32>0.9999); const c = f32x4.splat(<f32>0.0001);`,
    `  // madd is this build's multiply-add: mul + add, or f32x4.relaxed_madd in the relaxed build.`,
    ...accs.map((i) => `  let a${i} = f32x4.splat(<f32>${i + 1});`),
    `  for (let t = 0; t < iters; t++) {`,
    ...accs.map((i) => `    a${i} = madd(a${i}, m, c);`),
    `  }`,
    `  let s = a0;`,
    ...accs.slice(1).map((i) => `  s = f32x4.add(s, a${i});`),
    `  return f32x4.extract_lane(s, 0);`,
    `}`,
  ].join('\n');
}

/** GFLOPS of one short run (about 1 ms) of a compiled probe's `peak(iters)`. */
function peakTimer(peak: (iters: number) => number): () => number {
  const iters = 20_000;
  return () => {
    const t0 = performance.now();
    peak(iters);
    return (CHAINS * 8 * iters) / (performance.now() - t0) / 1e6;
  };
}

/** The peak probe alone, compiled for one SIMD build: each call times one short run, in GFLOPS. */
export async function compiledProbe(simd: SimdFlavour): Promise<() => number> {
  const imports = Object.entries(kernelExports()).map(([file, names]) => `import { ${names.join(', ')} } from './${file}';`);
  const { binary } = await compileAssemblyScript([...imports, probeSource()].join('\n'), { memoryBase: 65536, initialPages: 2, simd });
  const exports = (await WebAssembly.instantiate(await WebAssembly.compile(binary as Uint8Array<ArrayBuffer>), {})).exports as unknown as { peak: (iters: number) => number };
  return peakTimer(exports.peak);
}

/** A product timed against the probe: `run${k}(n, reps)` of the module, `flops(n)` per rep. */
export interface TimedProduct {
  readonly label: string;
  readonly code: string;
  readonly flops: (n: number) => number;
}

/**
 * Compiles the products (each `run<k>(n, reps)`) with the peak probe into one module, and times
 * each at each batch against the probe: GFLOPS and % of peak (medians), and the probe's median.
 */
export async function timeProducts(products: readonly TimedProduct[], batches: readonly number[], budgetMs: number, simd: SimdFlavour): Promise<{ rows: [string, number, number][]; peak: number }> {
  const imports = Object.entries(kernelExports()).map(([file, names]) => `import { ${names.join(', ')} } from './${file}';`);
  const source = [
    ...imports,
    ...products.map((b, k) => `export function run${k}(n: i32, reps: i32): void {\n  for (let r = 0; r < reps; r++) {\n${b.code}\n  }\n}`),
    probeSource(),
  ].join('\n');
  const { binary } = await compileAssemblyScript(source, { memoryBase: GEMM_MEMORY_BASE, initialPages: GEMM_MEMORY_BASE / PAGE + 1, simd });
  const exports = (await WebAssembly.instantiate(await WebAssembly.compile(binary as Uint8Array<ArrayBuffer>), {})).exports as unknown as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
  // Operands of moderate magnitude, so no denormals or overflow slow anything down.
  const f32 = new Float32Array(exports.memory.buffer, A, (3 * REGION) / 4);
  for (let i = 0; i < f32.length; i++) f32[i] = ((i * 7919) % 1000) / 1000 - 0.5;

  // Peak and GEMM alternate in short rounds, and each round gives a ratio: on a shared machine
  // the load changes from second to second, and the ratio of neighbours is what stays put.
  const peakOnce = peakTimer(exports['peak']!);
  const rounds = Math.max(9, Math.round(budgetMs / 40));
  const peaks: number[] = [];
  const rows: [string, number, number][] = [];
  for (const batch of batches) {
    products.forEach((b, k) => {
      const run = exports[`run${k}`]!;
      const flops = b.flops(batch);
      const reps = Math.max(1, Math.round(2e7 / flops));
      run(batch, reps);
      const gflops: number[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const peak = peakOnce();
        const t0 = performance.now();
        run(batch, reps);
        const g = (flops * reps) / (performance.now() - t0) / 1e6;
        peaks.push(peak);
        gflops.push(g);
        ratios.push(g / peak);
      }
      rows.push([`  batch ${String(batch).padStart(3)}  ${b.label}`, median(gflops), median(ratios)]);
    });
  }
  return { rows, peak: median(peaks) };
}

/** "12.3 GFLOPS   85 %" table lines under a heading. */
export function productLines(heading: string, rows: readonly [string, number, number][]): string[] {
  const width = Math.max(...rows.map(([label]) => label.length));
  return [heading, ...rows.map(([label, g, ratio]) => `${label.padEnd(width)} ${g.toFixed(1).padStart(5)} GFLOPS  ${(100 * ratio).toFixed(0).padStart(3)} %`)];
}

export const probeName = (simd: SimdFlavour): string => (simd === 'relaxed' ? 'f32x4.relaxed_madd' : 'f32x4 mul+add');

export async function benchGemm(budgetMs: number, simd: SimdFlavour, batches: readonly number[] = [64, 256, 2048]): Promise<string[]> {
  const products = PRODUCTS.map((p) => {
    const { code, flopsPerRow } = productCalls(p);
    return { label: p.label.padEnd(20), code, flops: (n: number) => flopsPerRow * n };
  });
  const { rows, peak } = await timeProducts(products, batches, budgetMs, simd);
  return productLines(`GEMM at the W1 shapes, ${simd} SIMD: GFLOPS (median) and % of the ${probeName(simd)} peak probe run alternately (median ${peak.toFixed(1)} GFLOPS)`, rows);
}
