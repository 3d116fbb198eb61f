// Every scalar the code generator writes must read back, once AssemblyScript has compiled it, as
// the very float32 it stands for: over the whole finite float32 range, both signs, subnormals
// included, and in both places literals appear (an expression, and a memory.data table).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileAssemblyScript } from '../../compiler/codegen/asc.ts';
import { f32Literal } from '../../compiler/codegen/elementwise.ts';
import { compile } from '../../compiler/compile.ts';
import { fuzzRuns } from './fuzz.ts';

const MIN_SUBNORMAL = 1.401298464324817e-45;
const MAX_F32 = 3.4028234663852886e38;

/** Float32 values spread evenly over decimal magnitudes 1e-45..3.4e38, both signs, plus raw float32 bit patterns. */
function samples(count: number): number[] {
  const magnitudes = fc.tuple(fc.double({ min: -45, max: Math.log10(MAX_F32), noNaN: true }), fc.boolean()).map(([e, negative]) => {
    const f = Math.fround(10 ** e);
    return negative ? -f : f;
  });
  const floats = fc.float({ noNaN: true, noDefaultInfinity: true });
  const drawn = fc.sample(fc.oneof(magnitudes, floats), { numRuns: count, seed: 20261201 });
  const edges = [0, -0, MIN_SUBNORMAL, -MIN_SUBNORMAL, MAX_F32, -MAX_F32, 1e19, -1e19, 1.5e19, 1e20, -1e20, 9.3e18, 1e38, 1.17549435e-38, 0.1, 1 / 3];
  return [...edges, ...drawn].map(Math.fround).filter((v) => Number.isFinite(v));
}

/** A module returning each literal from its own function and holding all of them in a memory.data table. */
function moduleOf(values: readonly number[]): string {
  const literals = values.map(f32Literal);
  return [
    `const table = memory.data<f32>([${literals.join(', ')}]);`,
    'export function tablePtr(): usize { return table; }',
    ...literals.map((lit, i) => `export function v${i}(): f32 { return ${lit}; }`),
  ].join('\n');
}

describe('f32Literal', () => {
  it('reads back bit-exactly after AssemblyScript compiles it, 1e-45..3.4e38, both signs', async () => {
    const values = samples(fuzzRuns(400));
    const { binary } = await compileAssemblyScript(moduleOf(values), { memoryBase: 1024, initialPages: 2 });
    const { instance } = await WebAssembly.instantiate(binary as BufferSource, {});
    const exports = instance.exports as Record<string, () => number> & { memory: WebAssembly.Memory };
    const table = new Float32Array(exports.memory.buffer, exports.tablePtr!(), values.length);
    const bits = (v: number): number => new Uint32Array(Float32Array.of(v).buffer)[0]!;
    const wrong = values.flatMap((v, i) => {
      const fromFunction = exports[`v${i}`]!();
      const fromTable = table[i]!;
      return bits(fromFunction) === bits(v) && bits(fromTable) === bits(v) ? [] : [`${v}: function ${fromFunction}, table ${fromTable}`];
    });
    expect(wrong).toEqual([]);
    expect(values.length).toBeGreaterThanOrEqual(400);
  });

  it('is a float literal, never an integer one (1e19 was emitted as 10000000000000000000)', () => {
    for (const v of [1e19, 1e20, -3e38]) expect(f32Literal(v)).toMatch(/^<f32>\(-?[0-9.]+e[+-][0-9]+\)$/);
    expect(f32Literal(16777216)).toBe('<f32>(16777216.0)');
    expect(f32Literal(0.5)).toBe('<f32>(0.5)');
    expect(f32Literal(-0)).toBe('<f32>(-0.0)');
  });

  it('refuses a value that is infinite in float32', () => {
    expect(() => f32Literal(1e39)).toThrow(/not finite in float32/);
  });

  it('a constant initializer of 1e20 compiles and gives float32 1e20 (was AS236 "does not fit into i64")', async () => {
    const trainer = await compile(
      {
        name: 'big_constant',
        input: { shape: [2] },
        layers: [{ type: 'dense', name: 'out', units: 1, kernelInitializer: { type: 'constant', value: 1e20 }, biasInitializer: { type: 'constant', value: -1.5e19 } }],
        loss: { type: 'mse' },
        batchSize: 2,
      },
      { simd: 'baseline' },
    );
    const w = trainer.getWeights();
    expect(Array.from(w['out.weight']!.data)).toEqual([Math.fround(1e20), Math.fround(1e20)]);
    expect(Array.from(w['out.bias']!.data)).toEqual([Math.fround(-1.5e19)]);
  });
});
