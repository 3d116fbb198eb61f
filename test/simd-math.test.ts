// The f32x4 transcendental functions of assembly/simd_math.ts against float64 Math, over the
// whole range a network meets (and beyond, where they must saturate, not turn NaN), in both SIMD
// builds: the relaxed build evaluates their polynomials by fused multiply-adds (madd), which
// round once where the baseline's mul + add round twice. Node 20 validates relaxed SIMD only
// behind a flag, so the relaxed build runs in a child process with it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileAssemblyScript, kernelExports, type SimdFlavour } from '../compiler/codegen/asc.ts';
import { relu } from '../compiler/ops/activations.ts';
import { erf64 } from '../compiler/ops/erf.ts';
import { gelu64, geluDerivative64 } from '../compiler/ops/gelu.ts';

const COUNT = 40_000;
/** `fn`: a simd_math function name, or an f32x4 expression of `v`. */
const source = (fn: string) => `import { ${kernelExports()['simd_math']!.join(', ')} } from './simd_math';
export function run(at: usize, count: i32): void {
  for (let i = 0; i < count; i += 4) {
    const v = v128.load(at + (<usize>i << 2));
    v128.store(at + (<usize>i << 2), ${fn.includes('(') ? fn : `${fn}(v)`});
  }
}`;

/** `fn` of each of `xs`, by the module of one SIMD build; the relaxed build in a child process with Node's flag. */
async function evaluate(fn: string, xs: Float32Array, simd: SimdFlavour = 'baseline'): Promise<Float32Array> {
  const { binary } = await compileAssemblyScript(source(fn), { memoryBase: 8 * 65536, initialPages: 10, simd });
  if (simd === 'relaxed') return evaluateRelaxed(binary, xs);
  const { exports } = (await WebAssembly.instantiate(await WebAssembly.compile(binary as Uint8Array<ArrayBuffer>), {})) as unknown as {
    exports: { memory: WebAssembly.Memory; run(at: number, count: number): void };
  };
  new Float32Array(exports.memory.buffer, 1024, xs.length).set(xs);
  exports.run(1024, xs.length);
  return new Float32Array(exports.memory.buffer, 1024, xs.length).slice();
}

// Reads the module and the inputs (f32 files), runs \`run\`, writes the outputs over the inputs' file.
const RUNNER = `
import { readFileSync, writeFileSync } from 'node:fs';
const [wasm, data] = process.argv.slice(1);
const { instance: { exports } } = await WebAssembly.instantiate(readFileSync(wasm), {});
const xs = new Float32Array(new Uint8Array(readFileSync(data)).buffer);
new Float32Array(exports.memory.buffer, 1024, xs.length).set(xs);
exports.run(1024, xs.length);
writeFileSync(data, new Uint8Array(exports.memory.buffer, 1024, xs.length * 4));
`;

function evaluateRelaxed(binary: Uint8Array, xs: Float32Array): Float32Array {
  const dir = mkdtempSync(join(tmpdir(), 'nabla-simd-math-'));
  try {
    writeFileSync(join(dir, 'math.wasm'), binary);
    writeFileSync(join(dir, 'xs.f32'), new Uint8Array(xs.buffer, xs.byteOffset, xs.byteLength));
    const flags = WebAssembly.validate(binary as Uint8Array<ArrayBuffer>) ? [] : ['--experimental-wasm-relaxed-simd'];
    execFileSync(process.execPath, [...flags, '--input-type=module', '-e', RUNNER, join(dir, 'math.wasm'), join(dir, 'xs.f32')]);
    return new Float32Array(new Uint8Array(readFileSync(join(dir, 'xs.f32'))).buffer);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const grid = (lo: number, hi: number): Float32Array => Float32Array.from({ length: COUNT }, (_, i) => lo + ((hi - lo) * i) / (COUNT - 1));

/** The largest error of `fn` on xs in each SIMD build, against `exact`, relative to `scale(x, exact(x))`. */
async function expectWorstError(fn: string, xs: Float32Array, exact: (x: number) => number, scale: (x: number, want: number) => number, tolerance: number): Promise<void> {
  for (const simd of ['baseline', 'relaxed'] as const) {
    const got = await evaluate(fn, xs, simd);
    let worst = 0;
    xs.forEach((x, i) => {
      const want = exact(x);
      worst = Math.max(worst, Math.abs(got[i]! - want) / scale(x, want));
    });
    expect(worst, `${simd} build`).toBeLessThan(tolerance);
  }
}

describe('f32x4 math', () => {
  it.each([
    ['nabla_tanh4', Math.tanh, grid(-12, 12), 4e-7],
    ['nabla_tanh4', Math.tanh, grid(-1e-3, 1e-3), 4e-7],
    ['nabla_exp4', Math.exp, grid(-80, 80), 4e-7],
    ['nabla_sigmoid4', (x: number) => 1 / (1 + Math.exp(-x)), grid(-80, 80), 4e-7],
    ['nabla_sigmoid4', (x: number) => 1 / (1 + Math.exp(-x)), grid(-1e-3, 1e-3), 4e-7],
    ['nabla_erf4', erf64, grid(-6, 6), 4e-7],
    ['nabla_erf4', erf64, grid(-1e-3, 1e-3), 4e-7],
    ['nabla_erf4', erf64, grid(0.9, 1.1), 4e-7],
    ['nabla_softplus4', (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), grid(-80, 80), 4e-7],
    ['nabla_softplus4', (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), grid(-1e-3, 1e-3), 4e-7],
  ] as const)('%s is within a few float32 ulp of float64 Math, in both SIMD builds', async (fn, exact, xs, tolerance) => {
    await expectWorstError(fn, xs, exact, (_, want) => Math.max(Math.abs(want), 1e-30), tolerance);
  });

  // gelu and gelu′ are measured against what rounding their input to float32 alone would cost:
  // the error over max(|f(x)|, |x·f′(x)|). Below x ≈ −1.4 the value is ∝ e^(−x²/2), so a relative
  // error of the input becomes one x² times larger (both functions compute x²/2 in float32), and
  // gelu′ crosses 0 at x ≈ −0.75, where a relative error means nothing. Within about 4 ulp (the
  // largest, 3.6e-7 and 4.3e-7, near x = −1 and −1.3, where Φ comes from the erfc fit).
  const density = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  // gelu′ as the backward pass calls it, with the forward's gelu(x).
  const DERIVATIVE = 'nabla_gelu_derivative4(v, nabla_gelu4(v))';
  it.each([
    ['nabla_gelu4', gelu64, geluDerivative64, grid(-14, 14)],
    ['nabla_gelu4', gelu64, geluDerivative64, grid(-1e-3, 1e-3)],
    ['nabla_gelu4', gelu64, geluDerivative64, grid(-1.5, -1.3)],
    [DERIVATIVE, geluDerivative64, (x: number) => density(x) * (2 - x * x), grid(-14, 14)],
    [DERIVATIVE, geluDerivative64, (x: number) => density(x) * (2 - x * x), grid(-0.8, -0.7)],
    [DERIVATIVE, geluDerivative64, (x: number) => density(x) * (2 - x * x), grid(-1e-3, 1e-3)],
  ] as const)('%s is within a few float32 ulp of float64, scaled by its condition, in both SIMD builds', async (fn, exact, slope, xs) => {
    await expectWorstError(fn, xs, exact, (x, want) => Math.max(Math.abs(want), Math.abs(x * slope(x)), 1e-30), 5e-7);
  });

  it('gelu and gelu′ go to exact limits far out: −0 and 0 for a very negative x, x and 1 for a large one', async () => {
    const xs = Float32Array.from([-1e30, -100, -14, 14, 100, 1e30, 0, -0]);
    expect(Array.from(await evaluate('nabla_gelu4', xs)).map((v) => Object.is(v, -0) ? '-0' : v)).toEqual(['-0', '-0', '-0', 14, 100, Math.fround(1e30), 0, '-0']);
    expect(Array.from(await evaluate(DERIVATIVE, xs))).toEqual([0, 0, 0, 1, 1, 1, 0.5, 0.5]);
    // Φ = y/x would lose its digits where x·Φ(x) underflows: ½ there.
    expect(Array.from(await evaluate(DERIVATIVE, Float32Array.from([1e-40, -1e-40, 1e-45, -1e-45])))).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  it('saturates instead of overflowing', async () => {
    const got = await evaluate('nabla_tanh4', Float32Array.from([-1e30, -100, 100, 1e30]));
    expect(Array.from(got)).toEqual([-1, -1, 1, 1]);
    const e = await evaluate('nabla_exp4', Float32Array.from([-1e4, 0, 1e4, 89]));
    expect(e[0]).toBeLessThanOrEqual(1.18e-38); // clamped to the smallest normal float
    expect(Array.from(e.slice(1))).toEqual([1, Infinity, Infinity]);
    const s = await evaluate('nabla_sigmoid4', Float32Array.from([-1e30, -100, 100, 1e30]));
    expect(s[0]).toBeLessThanOrEqual(1.18e-38);
    expect(s[1]).toBeLessThanOrEqual(1.18e-38);
    expect(Array.from(s.slice(2))).toEqual([1, 1]);
    expect(Array.from(await evaluate('nabla_erf4', Float32Array.from([-1e30, -4, 4, 1e30])))).toEqual([-1, -1, 1, 1]);
    const sp = await evaluate('nabla_softplus4', Float32Array.from([-1e30, 0, 100, 1e30]));
    expect(sp[0]).toBeLessThanOrEqual(1.18e-38);
    expect(Array.from(sp.slice(1))).toEqual([Math.LN2, 100, 1e30].map(Math.fround));
  });

  // The clamps are pmin/pmax and relu is pmax (one instruction each, where min/max cost about
  // seven): a NaN must still come through, or the non-finite guard would miss it.
  it('passes NaN on: exp, tanh, sigmoid, erf, softplus, gelu, gelu′ and relu', async () => {
    for (const fn of ['nabla_exp4', 'nabla_tanh4', 'nabla_sigmoid4', 'nabla_erf4', 'nabla_softplus4', 'nabla_gelu4', DERIVATIVE]) expect(Array.from(await evaluate(fn, Float32Array.from([NaN, 1, NaN, -1]))).map(Number.isNaN), fn).toEqual([true, false, true, false]);
    const template = relu.template;
    if (template.kind !== 'elementwise' || !template.simd) throw new Error('relu has no f32x4 form');
    expect(Array.from(await evaluate(template.simd('v'), Float32Array.from([NaN, -2, 0, 3])))).toEqual([NaN, 0, 0, 3]);
  });
});
