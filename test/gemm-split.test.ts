// A split GEMM (the threaded build's products, codegen/gemm.ts `split`): run one part at a time
// on an output filled with a sentinel, each part writes only its own 8-column panels, the parts
// together write every column exactly once, and what they write is, bit for bit, what the whole
// product writes, which is the product (float64 reference). For the three products of a dense
// layer (X·Wᵀ packed, in both its direct and blocked forms; dY·W in place; dYᵀ·X with A packed
// over a short K, and read in place over a long one, in one K block or several) and part counts
// that do not divide the panels.
import { describe, expect, it } from 'vitest';
import { compileAssemblyScript, kernelExports } from '../compiler/codegen/asc.ts';
import { COLUMNS_KC, COLUMNS_MIN_K, COLUMNS_WHOLE_K, DIRECT_ROWS, emitGemm, type GemmSpec } from '../compiler/codegen/gemm.ts';

const A = 1 << 18;
const B = 2 << 18;
const C = 3 << 18;
const SCRATCH = 4 << 18;
const K_ = 13;
// Ten panels, the last 3 columns wide; more than one in-place column block of dY·X over a long K.
const N_ = 75;
/** A long K in several K blocks, the last one short. */
const LONG_K = COLUMNS_WHOLE_K + COLUMNS_KC + 37;

/** The products, each with the rows `n` it is run on. */
/** Element (i, j) of the product in float64, from the operands A and B as each product lays them out. */
type Reference = (a: Float32Array, b: Float32Array, i: number, j: number, n: number) => number;
const dot = (K: number, term: (k: number) => number): number => Array.from({ length: K }, (_, k) => term(k)).reduce((s, t) => s + t, 0);
const xwt: Reference = (a, b, i, j) => dot(K_, (k) => a[i * K_ + k]! * b[j * K_ + k]!);
const dyw: Reference = (a, b, i, j) => dot(K_, (k) => a[i * K_ + k]! * b[k * N_ + j]!);
const dytx: Reference = (a, b, i, j, n) => dot(n, (k) => a[k * 21 + i]! * b[k * N_ + j]!);

const PRODUCTS: readonly { readonly name: string; readonly spec: GemmSpec; readonly rows: readonly number[]; readonly reference: Reference }[] = [
  {
    name: 'X·Wᵀ, W packed (direct below 16 rows, blocked above)',
    spec: { c: String(C), a: String(A), b: String(B), M: { expr: 'n' }, K: { expr: String(K_), value: K_ }, N: N_, aRow: K_ * 4, aK: 4, bLayout: { kind: 'packed', scratch: String(SCRATCH) } },
    rows: [DIRECT_ROWS - 5, DIRECT_ROWS + 7],
    reference: xwt,
  },
  {
    name: 'dY·W, W read in place',
    spec: { c: String(C), a: String(A), b: String(B), M: { expr: 'n' }, K: { expr: String(K_), value: K_ }, N: N_, aRow: K_ * 4, aK: 4, bLayout: { kind: 'rows' } },
    rows: [3, 22],
    reference: dyw,
  },
  {
    name: 'dYᵀ·X over a short K, dY packed into 4-column panels',
    spec: { c: String(C), a: String(A), b: String(B), M: { expr: '21', value: 21 }, K: { expr: 'n', bound: COLUMNS_MIN_K - 1 }, N: N_, aRow: 4, aK: 16, bLayout: { kind: 'rows' }, aPacked: { scratch: String(SCRATCH) } },
    rows: [5, 19],
    reference: dytx,
  },
  {
    name: 'dYᵀ·X over a long K in one block, dY read in place by rows (8×4 column blocks, then rows broadcast)',
    spec: { c: String(C), a: String(A), b: String(B), M: { expr: '21', value: 21 }, K: { expr: 'n', bound: COLUMNS_WHOLE_K }, N: N_, aRow: 4, aK: 16, bLayout: { kind: 'rows' }, aPacked: { scratch: String(SCRATCH) } },
    rows: [5, COLUMNS_MIN_K + 3, COLUMNS_WHOLE_K],
    reference: dytx,
  },
  {
    name: 'dYᵀ·X over a longer K, in K blocks and column blocks, dY read in place',
    spec: { c: String(C), a: String(A), b: String(B), M: { expr: '21', value: 21 }, K: { expr: 'n' }, N: N_, aRow: 4, aK: 16, bLayout: { kind: 'rows' }, aPacked: { scratch: String(SCRATCH) } },
    rows: [19, LONG_K],
    reference: dytx,
  },
];

interface Exports {
  readonly memory: WebAssembly.Memory;
  whole(n: number): void;
  part(n: number, part: number, parts: number): void;
}

async function build(spec: GemmSpec): Promise<Exports> {
  const imports = Object.entries(kernelExports()).map(([file, names]) => `import { ${names.join(', ')} } from './${file}';`);
  const source = [
    ...imports,
    `export function whole(n: i32): void {\n${emitGemm(spec)}\n}`,
    `export function part(n: i32, part: i32, parts: i32): void {\n${emitGemm({ ...spec, split: true })}\n}`,
  ].join('\n');
  const { binary } = await compileAssemblyScript(source, { memoryBase: 5 << 18, initialPages: (5 << 18) / 65536 + 2, simd: 'baseline' });
  return (await WebAssembly.instantiate(await WebAssembly.compile(binary as Uint8Array<ArrayBuffer>), {})).exports as unknown as Exports;
}

describe('a GEMM split into parts', () => {
  for (const { name, spec, rows, reference } of PRODUCTS) {
    it(name, async () => {
      const gemm = await build(spec);
      const f32 = (at: number, length: number): Float32Array => new Float32Array(gemm.memory.buffer, at, length);
      const u32 = (at: number, length: number): Uint32Array => new Uint32Array(gemm.memory.buffer, at, length);
      const operands = f32(A, (2 * (B - A)) / 4);
      for (let i = 0; i < operands.length; i++) operands[i] = Math.sin(i * 0.37) * 1.7;
      const SENTINEL = 0xffc0dead; // a NaN no product writes
      for (const n of rows) {
        const M = spec.M.value ?? n;
        const output = u32(C, M * N_);
        output.fill(SENTINEL);
        gemm.whole(n);
        const expected = output.slice();
        expect(expected.includes(SENTINEL), 'the whole product writes every element').toBe(false);
        const [a, b, c] = [f32(A, (B - A) / 4), f32(B, (B - A) / 4), f32(C, M * N_)];
        for (let i = 0; i < M; i++) for (let j = 0; j < N_; j++) expect(Math.abs(c[i * N_ + j]! - reference(a, b, i, j, n)), `${n} rows: element (${i}, ${j})`).toBeLessThan(1e-4 * (1 + Math.sqrt(spec.K.value ?? n)));
        const panels = Math.ceil(N_ / 8);
        for (const parts of [1, 2, 3, 7]) {
          const writer = new Int32Array(N_).fill(-1);
          const merged = new Uint32Array(M * N_).fill(SENTINEL);
          gemm.part(n, -1, parts);
          for (let p = 0; p < parts; p++) {
            // Each part on an output of sentinels alone: what it writes is what differs from them.
            output.fill(SENTINEL);
            gemm.part(n, p, parts);
            for (let j = 0; j < N_; j++) {
              const written = Array.from({ length: M }, (_, i) => output[i * N_ + j] !== SENTINEL);
              if (!written.some(Boolean)) continue;
              expect(written.every(Boolean), `${n} rows, part ${p} of ${parts}: column ${j} written whole`).toBe(true);
              expect(writer[j], `${n} rows, ${parts} parts: column ${j} written by parts ${writer[j]} and ${p}`).toBe(-1);
              writer[j] = p;
              for (let i = 0; i < M; i++) merged[i * N_ + j] = output[i * N_ + j]!;
            }
          }
          // Part p owns panels [⌊p·panels/parts⌋, ⌊(p+1)·panels/parts⌋).
          const owner = Array.from({ length: N_ }, (_, j) => Math.min(parts - 1, Array.from({ length: parts }, (_, p) => Math.floor((p * panels) / parts)).filter((first) => first <= j >> 3).length - 1));
          expect(Array.from(writer), `${n} rows, ${parts} parts: the owner of each column`).toEqual(owner);
          expect(Buffer.from(merged.buffer).equals(Buffer.from(expected.buffer)), `${n} rows, ${parts} parts: the bits of the whole product`).toBe(true);
        }
      }
    });
  }
});
