// The guard's and the telemetry's reductions (assembly/stats.ts) against plain float64 loops, on
// every length up to past two unrolled iterations, so each tail path runs, and with a NaN or
// ±Inf planted at every position: in the unrolled body and in the tail alike.
import { beforeAll, describe, expect, it } from 'vitest';
import { compileAssemblyScript, kernelExports } from '../compiler/codegen/asc.ts';

interface Stats {
  memory: WebAssembly.Memory;
  sum_squares(ptr: number, count: number): number;
  all_finite(ptr: number, count: number): number;
  diff_squares(a: number, b: number, count: number): number;
}

const A = 1024;
const B = 4096;
let stats: Stats;

beforeAll(async () => {
  const names = kernelExports()['stats']!;
  const source = `import { ${names.join(', ')} } from './stats';\nexport { ${['sum_squares', 'all_finite', 'diff_squares'].join(', ')} };`;
  const { binary } = await compileAssemblyScript(source, { memoryBase: 65536, initialPages: 2 });
  stats = (await WebAssembly.instantiate(await WebAssembly.compile(binary as Uint8Array<ArrayBuffer>), {})).exports as unknown as Stats;
});

const values = (count: number, seed: number): Float32Array => Float32Array.from({ length: count }, (_, i) => Math.fround(Math.sin(seed + 1.7 * i) * 3));
const put = (at: number, data: Float32Array): void => new Float32Array(stats.memory.buffer, at, data.length).set(data);

describe('assembly/stats.ts', () => {
  const lengths = Array.from({ length: 37 }, (_, n) => n);

  it.each(lengths)('length %i: sum of squares and squared difference match float64', (n) => {
    const a = values(n, 1);
    const b = values(n, 2);
    put(A, a);
    put(B, b);
    const sum = a.reduce((s, v) => s + v * v, 0);
    const diff = a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0);
    expect(stats.sum_squares(A, n)).toBeCloseTo(sum, 10);
    expect(stats.diff_squares(A, B, n)).toBeCloseTo(diff, 10);
    expect(stats.all_finite(A, n)).toBe(1);
  });

  it.each(lengths.filter((n) => n > 0))('length %i: a NaN or ±Inf anywhere is found', (n) => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (let k = 0; k < n; k++) {
        const a = values(n, 3);
        a[k] = bad;
        put(A, a);
        expect(stats.all_finite(A, n), `${bad} at ${k}`).toBe(0);
        expect(Number.isFinite(stats.sum_squares(A, n)), `${bad} at ${k}`).toBe(false);
      }
    }
  });

  it('sums squares of the largest float32 values without overflowing (float64 accumulators)', () => {
    put(A, new Float32Array(20).fill(3.4e38));
    expect(stats.sum_squares(A, 20) / (20 * Math.fround(3.4e38) ** 2)).toBeCloseTo(1, 12);
    expect(stats.all_finite(A, 20)).toBe(1);
  });
});
