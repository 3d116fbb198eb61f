// Spec scalars are checked as the float32 the trainer computes with: a value finite in float64
// but infinite in float32, or positive in float64 but 0 in float32, is refused with a SpecError
// naming the field, before anything is compiled.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSpec, SpecError } from '../../compiler/model/spec.ts';
import { FUZZ_SEED, fuzzRuns } from './fuzz.ts';

const base = {
  name: 'scalars',
  input: { shape: [3] },
  layers: [{ type: 'dense', name: 'out', units: 2, activation: 'softmax' }],
  loss: { type: 'sparse_categorical_crossentropy' },
  batchSize: 4,
};
const dense = (extra: object): object => ({ ...base, layers: [{ type: 'dense', name: 'out', units: 2, ...extra }], loss: { type: 'mse' } });

/** [field, how to put the value in a spec, does the field need > 0 in float32]. */
const FIELDS: [string, (v: number) => object, 'positive' | 'nonnegative' | 'any'][] = [
  ['optimizer.learningRate', (v) => ({ ...base, optimizer: { type: 'sgd', learningRate: v } }), 'positive'],
  ['optimizer.epsilon', (v) => ({ ...base, optimizer: { type: 'adam', epsilon: v } }), 'positive'],
  ['optimizer.epsilon', (v) => ({ ...base, optimizer: { type: 'rmsprop', epsilon: v } }), 'positive'],
  ['optimizer.clipNorm', (v) => ({ ...base, optimizer: { type: 'sgd', clipNorm: v } }), 'positive'],
  ['optimizer.clipValue', (v) => ({ ...base, optimizer: { type: 'sgd', clipValue: v } }), 'positive'],
  ['optimizer.l2', (v) => ({ ...base, optimizer: { type: 'sgd', l2: v } }), 'nonnegative'],
  ['optimizer.weightDecay', (v) => ({ ...base, optimizer: { type: 'adamw', weightDecay: v } }), 'nonnegative'],
  ['optimizer.schedule.gamma', (v) => ({ ...base, optimizer: { type: 'sgd', schedule: { type: 'step', stepSize: 10, gamma: v } } }), 'positive'],
  ['optimizer.schedule.decayRate', (v) => ({ ...base, optimizer: { type: 'sgd', schedule: { type: 'exponential', decaySteps: 10, decayRate: v } } }), 'positive'],
  ['loss.delta', (v) => ({ ...base, layers: [{ type: 'dense', units: 2 }], loss: { type: 'huber', delta: v } }), 'positive'],
  ['loss.weight', (v) => ({ ...base, loss: { type: 'sparse_categorical_crossentropy', weight: v } }), 'nonnegative'],
  ['layers[0].kernelInitializer.value', (v) => dense({ kernelInitializer: { type: 'constant', value: v } }), 'any'],
  ['layers[0].kernelInitializer.mean', (v) => dense({ kernelInitializer: { type: 'random_normal', mean: v } }), 'any'],
  ['layers[0].kernelInitializer.stddev', (v) => dense({ kernelInitializer: { type: 'random_normal', stddev: v } }), 'positive'],
  ['layers[0].kernelInitializer.scale', (v) => dense({ kernelInitializer: { type: 'variance_scaling', scale: v } }), 'positive'],
  ['layers[0].activation.alpha', (v) => dense({ activation: { type: 'leaky_relu', alpha: v } }), 'any'],
];

describe('spec scalars are checked in float32', () => {
  const refused: [string, object, RegExp][] = [
    ['learningRate 1e39 (+Inf in float32)', FIELDS[0]![1](1e39), /optimizer\.learningRate: expected a number that is finite in float32/],
    ['Adam epsilon 1e-50 (0 in float32)', FIELDS[1]![1](1e-50), /optimizer\.epsilon: expected a positive number; this one is 0 in float32/],
    ['learningRate 1e-46 (0 in float32)', FIELDS[0]![1](1e-46), /optimizer\.learningRate: expected a positive number; this one is 0 in float32/],
    ['constant initializer 1e39', FIELDS[11]![1](1e39), /layers\[0\]\.kernelInitializer\.value: expected a number that is finite in float32 \(\|x\| ≤ 3\.4028235e38\), got 1e\+39/],
    ['clipValue 1e39', FIELDS[4]![1](1e39), /optimizer\.clipValue: expected a number that is finite in float32/],
    ['l2 1e39', FIELDS[5]![1](1e39), /optimizer\.l2: expected a number that is finite in float32/],
    ['Huber delta 1e39', FIELDS[9]![1](1e39), /loss\.delta: expected a number that is finite in float32/],
    ['loss weight -1e39', FIELDS[10]![1](-1e39), /loss\.weight: expected a non-negative number/],
    ['leaky_relu alpha 1e39', FIELDS[15]![1](1e39), /layers\[0\]\.activation/],
    ['beta1 0.99999999 (1 in float32)', { ...base, optimizer: { type: 'adam', beta1: 0.99999999 } }, /optimizer\.beta1: expected a number in \[0, 1\); this one is 1 in float32/],
    ['a step size past 2^32', { ...base, optimizer: { type: 'sgd', schedule: { type: 'step', stepSize: 2 ** 33 } } }, /optimizer\.schedule\.stepSize: expected an integer ≤ 4294967295/],
  ];
  it.each(refused)('refuses %s', (_name, spec, message) => {
    expect(() => parseSpec(spec)).toThrow(SpecError);
    expect(() => parseSpec(spec)).toThrow(message);
  });

  it('accepts the float32 extremes: 3.4028234e38 and the smallest positive float32', () => {
    expect(() => parseSpec(FIELDS[11]![1](-3.4028234e38))).not.toThrow();
    expect(() => parseSpec(FIELDS[1]![1](1.5e-45))).not.toThrow();
  });

  // Any number in any scalar field: accepted exactly when its float32 is finite (and > 0 / ≥ 0
  // where the field asks), otherwise a SpecError naming the field. Never any other error.
  it('any number in any scalar field: the right verdict, the field named', () => {
    let accepted = 0;
    let refusedCount = 0;
    const value = fc.oneof(
      fc.double({ noNaN: false }),
      fc.tuple(fc.double({ min: -60, max: 45, noNaN: true }), fc.boolean()).map(([e, neg]) => (neg ? -1 : 1) * 10 ** e),
      fc.constantFrom(0, -0, 3.4028235677973366e38, 3.4028234663852886e38, 1e-45, 7e-46, Infinity, -Infinity),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: FIELDS.length - 1 }), value, (k, v) => {
        const [field, make, kind] = FIELDS[k]!;
        const f = Math.fround(v);
        const ok = Number.isFinite(f) && (kind === 'any' || (kind === 'positive' ? f > 0 && v > 0 : v >= 0));
        let error: unknown;
        try {
          parseSpec(make(v));
        } catch (err) {
          error = err;
        }
        if (ok) {
          // Other fields may constrain the value further (gamma > 0 is all; alpha any): only the field itself matters here.
          if (error) expect((error as Error).message).not.toContain(`${field}:`);
          accepted++;
        } else {
          expect(error).toBeInstanceOf(SpecError);
          expect((error as Error).message).toContain(`${field.replace(/\.alpha$/, '')}`);
          refusedCount++;
        }
      }),
      { numRuns: fuzzRuns(2000), seed: FUZZ_SEED },
    );
    expect(accepted + refusedCount).toBeGreaterThanOrEqual(2000);
    console.info(`spec scalars: ${accepted + refusedCount} cases, ${accepted} accepted, ${refusedCount} refused with a SpecError naming the field`);
  });
});
