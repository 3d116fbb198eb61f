// Initial weights: identical bits in the compiled trainer and the interpreter, for every
// initializer, and distributed as Keras specifies.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { drawOf, initialValues, type InitializerSpec } from '../compiler/init/initializers.ts';
import { deterministicLog, Rng } from '../runtime/prng.ts';

const spec = {
  input: { shape: [300] },
  layers: [
    { type: 'dense', name: 'g', units: 200, kernelInitializer: 'glorot_uniform', biasInitializer: { type: 'constant', value: 0.25 } },
    { type: 'dense', name: 'h', units: 100, kernelInitializer: 'he_normal', biasInitializer: 'ones' },
    { type: 'dense', name: 'z', units: 3, kernelInitializer: 'zeros' },
  ],
  loss: { type: 'mse' },
  seed: 12345,
};

const INITIALIZERS: readonly unknown[] = [
  'zeros',
  'ones',
  { type: 'constant', value: -0.5 },
  'random_normal',
  { type: 'random_normal', mean: 1, stddev: 0.2 },
  { type: 'random_uniform', minval: 0, maxval: 2 },
  'truncated_normal',
  'glorot_uniform',
  'glorot_normal',
  'he_uniform',
  'he_normal',
  'lecun_uniform',
  'lecun_normal',
  { type: 'variance_scaling', scale: 3, mode: 'fan_out', distribution: 'untruncated_normal' },
  { type: 'variance_scaling', scale: 0.5, mode: 'fan_avg', distribution: 'uniform' },
];

/** Truncation at ±2σ keeps this fraction of a normal's variance. */
const T = 0.87962566103423978 ** 2;
const n = 1000;
/** [name, initializer, mean, variance, optional [min, max] bound] from Keras's formulas. */
const STATISTICS: readonly [string, InitializerSpec, number, number, [number, number]?][] = [
  ['random_normal', { type: 'random_normal' }, 0, 0.05 ** 2],
  ['random_normal(1, 0.2)', { type: 'random_normal', mean: 1, stddev: 0.2 }, 1, 0.04],
  ['random_uniform(0, 2)', { type: 'random_uniform', minval: 0, maxval: 2 }, 1, 4 / 12, [0, 2]],
  ['truncated_normal', { type: 'truncated_normal' }, 0, 0.05 ** 2 * T, [-0.1, 0.1]],
  ['glorot_uniform', { type: 'glorot_uniform' }, 0, 2 / (n + n), [-Math.sqrt(6 / (n + n)), Math.sqrt(6 / (n + n))]],
  ['glorot_normal', { type: 'glorot_normal' }, 0, 2 / (n + n)],
  ['he_uniform', { type: 'he_uniform' }, 0, 2 / n, [-Math.sqrt(6 / n), Math.sqrt(6 / n)]],
  ['he_normal', { type: 'he_normal' }, 0, 2 / n],
  ['lecun_uniform', { type: 'lecun_uniform' }, 0, 1 / n],
  ['lecun_normal', { type: 'lecun_normal' }, 0, 1 / n, [-2 * Math.sqrt(1 / n) / 0.87962566103423978, 2 * Math.sqrt(1 / n) / 0.87962566103423978]],
  ['variance_scaling(3, fan_out, untruncated_normal)', { type: 'variance_scaling', scale: 3, mode: 'fan_out', distribution: 'untruncated_normal' }, 0, 3 / n],
  ['variance_scaling(0.5, fan_avg, uniform)', { type: 'variance_scaling', scale: 0.5, mode: 'fan_avg', distribution: 'uniform' }, 0, 0.5 / n],
  ['variance_scaling(2) default truncated_normal', { type: 'variance_scaling', scale: 2 }, 0, 2 / n],
];

function stats(data: ArrayLike<number>): { mean: number; std: number; maxAbs: number } {
  let s = 0;
  let s2 = 0;
  let maxAbs = 0;
  for (let i = 0; i < data.length; i++) {
    s += data[i]!;
    s2 += data[i]! ** 2;
    maxAbs = Math.max(maxAbs, Math.abs(data[i]!));
  }
  const mean = s / data.length;
  return { mean, std: Math.sqrt(s2 / data.length - mean * mean), maxAbs };
}

describe('initializers', () => {
  it('compiled init(seed) writes exactly the interpreter values, for several seeds', async () => {
    const trainer = await compile(spec);
    const interpreter = interpret(spec);
    for (const seed of [12345, 0, 0xffffffff, 7]) {
      trainer.init(seed);
      interpreter.init(seed);
      const a = trainer.getWeights();
      const b = interpreter.getWeights();
      for (const name of Object.keys(b)) expect(Array.from(a[name]!.data), `${name}, seed ${seed}`).toEqual(Array.from(b[name]!.data));
    }
  });

  it('follows the Keras formulas', () => {
    const w = interpret(spec).getWeights();
    const glorot = stats(w['g.weight']!.data);
    const limit = Math.sqrt(6 / (300 + 200));
    expect(glorot.maxAbs).toBeLessThanOrEqual(limit);
    expect(glorot.std).toBeCloseTo(limit / Math.sqrt(3), 2);
    const he = stats(w['h.weight']!.data);
    const stddev = Math.sqrt(2 / 200) / 0.87962566103423978;
    expect(he.maxAbs).toBeLessThanOrEqual(2 * stddev);
    expect(he.std / Math.sqrt(2 / 200)).toBeCloseTo(1, 1);
    expect(Math.abs(he.mean)).toBeLessThan(0.01);
    expect(new Set(w['g.bias']!.data)).toEqual(new Set([0.25]));
    expect(new Set(w['h.bias']!.data)).toEqual(new Set([1]));
    expect(new Set(w['z.weight']!.data)).toEqual(new Set([0]));
  });

  it('every initializer: compiled init(seed) is bit-identical to the interpreter', async () => {
    const all = {
      input: { shape: [7] },
      layers: INITIALIZERS.map((init, k) => ({ type: 'dense', name: `l${k}`, units: 7, kernelInitializer: init, biasInitializer: init })),
      loss: { type: 'mse' },
      seed: 99,
    };
    const trainer = await compile(all);
    const interpreter = interpret(all);
    for (const seed of [99, 0xdeadbeef]) {
      trainer.init(seed);
      interpreter.init(seed);
      const a = trainer.getWeights();
      const b = interpreter.getWeights();
      for (const name of Object.keys(b)) expect(Array.from(a[name]!.data), `${name}, seed ${seed}`).toEqual(Array.from(b[name]!.data));
    }
  });

  // Acceptance 5: for a 1000×1000 layer (fan_in = fan_out = 1000), each sample variance is within
  // 2 % of its formula, and the mean is where it should be.
  for (const [name, init, mean, variance, bound] of STATISTICS) {
    it(`${name}: variance of a 1000×1000 layer within 2 % of the formula`, () => {
      const param = { name: 'w', layer: 'w', shape: [1000, 1000], init, fanIn: 1000, fanOut: 1000, trainable: true };
      const values = initialValues(drawOf(param), 1000 * 1000, 5, 0);
      const s = stats(values);
      expect(Math.abs(s.std ** 2 / variance - 1)).toBeLessThan(0.02);
      expect(Math.abs(s.mean - mean)).toBeLessThan(0.01 * Math.sqrt(variance));
      if (bound !== undefined) {
        // float32 rounding may land a hair beyond a bound computed in float64.
        const slack = 1e-6 * Math.max(Math.abs(bound[0]), Math.abs(bound[1]));
        expect(values.reduce((a, b) => Math.min(a, b))).toBeGreaterThanOrEqual(bound[0] - slack);
        expect(values.reduce((a, b) => Math.max(a, b))).toBeLessThanOrEqual(bound[1] + slack);
      }
    });
  }

  it('different seeds and streams give different weights', () => {
    const a = interpret({ ...spec, seed: 1 }).getWeights()['g.weight']!.data;
    const b = interpret({ ...spec, seed: 2 }).getWeights()['g.weight']!.data;
    expect(Array.from(a)).not.toEqual(Array.from(b));
    expect(new Rng(1, 0).nextU32()).not.toBe(new Rng(1, 1).nextU32());
  });

  it('deterministicLog matches Math.log to 1 ulp-ish', () => {
    for (const v of [1e-300, 1e-10, 0.1, 0.5, 0.7071, 1, 1.5, 2, 1e10]) {
      expect(Math.abs(deterministicLog(v) - Math.log(v))).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(Math.log(v))));
    }
  });
});
