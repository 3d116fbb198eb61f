// Initial weights: identical bits in the compiled trainer and the interpreter, for every
// initializer, and distributed as Keras specifies.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
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
