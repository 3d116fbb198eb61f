// fit, trainStep, evaluate and predict check and convert the data once per call: a typed array
// of the trainer's storage type goes straight through, nested arrays and float64 arrays are
// converted once. Whatever form the data takes, training is the same, bad values are named, and
// metrics compare with the targets as given.
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { InputError } from '../runtime/errors.ts';
import type { EpochLog } from '../runtime/fit.ts';
import type { Trainer } from '../runtime/trainer.ts';
import { randomClasses, randomMatrix } from './support/data.ts';

const classifier = {
  name: 'fit_data',
  input: { name: 'x', shape: [3] },
  layers: [
    { type: 'dense', name: 'hidden', units: 6, activation: 'tanh' },
    { type: 'dense', name: 'out', units: 3, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  optimizer: { type: 'sgd', learningRate: 0.1 },
  batchSize: 8,
  seed: 5,
};

const regressor = {
  name: 'fit_data_regression',
  input: { name: 'x', shape: [3] },
  layers: [{ type: 'dense', name: 'out', units: 2 }],
  loss: { type: 'mse' },
  batchSize: 8,
  seed: 5,
};

/** The history without its timings, which differ from run to run. */
const untimed = (epochs: readonly EpochLog[]): Omit<EpochLog, 'seconds'>[] => epochs.map(({ seconds: _seconds, ...log }) => log);

describe('fit data in any form', () => {
  let trainer: Trainer;
  const rows = 37;
  const nested = randomMatrix(rows, 3, 11);
  const labels = randomClasses(rows, 3, 12);
  beforeAll(async () => {
    trainer = await compile(classifier);
  });

  /** From freshly initialised weights: the history, the weights, and trainStep's loss and evaluate/predict after. */
  function run(x: unknown, y: unknown) {
    trainer.init();
    const history = trainer.fit({ x: x as never, y: y as never }, { epochs: 3, batchSize: 5, validationSplit: 0.2, metrics: ['accuracy', 'top_k_accuracy'] });
    const loss = trainer.trainStep((x as { slice(a: number, b: number): unknown }).slice(0, 8 * (Array.isArray(x) ? 1 : 3)) as never, (y as { slice(a: number, b: number): unknown }).slice(0, 8) as never);
    const weights = Object.fromEntries(Object.entries(trainer.getWeights()).map(([k, t]) => [k, Array.from(t.data)]));
    return { history: untimed(history.epochs), loss, weights, evaluation: trainer.evaluate(x as never, y as never, { metrics: ['accuracy'] }), prediction: Array.from(trainer.predict(x as never).data) };
  }

  it('typed arrays, float64 arrays, tensors and nested arrays train, evaluate and predict alike', () => {
    const f32 = Float32Array.from(nested.flat());
    const i32 = Int32Array.from(labels);
    const fromNested = run(nested, labels);
    expect(fromNested.history).toHaveLength(3);
    expect(fromNested.history[2]!.valLoss).toBeGreaterThan(0);
    expect(run(f32, i32)).toEqual(fromNested);
    expect(run(Float64Array.from(nested.flat()), Float64Array.from(labels))).toEqual(fromNested);
    expect(run(f32, Float32Array.from(labels))).toEqual(fromNested);
    // fit reads typed arrays as they are and writes nothing to them.
    expect(Array.from(f32)).toEqual(nested.flat());
    expect(Array.from(i32)).toEqual(labels);
  });

  it("data in the trainer's own input and label buffers trains as a copy of it does", () => {
    const x = Float32Array.from(nested.slice(0, 8).flat());
    const y = Int32Array.from(labels.slice(0, 8));
    trainer.init();
    const copied = untimed(trainer.fit({ x, y }, { epochs: 2, batchSize: 3 }).epochs);
    trainer.init();
    trainer.views.input.set(x);
    trainer.views.labels.set(y);
    const inPlace = untimed(trainer.fit({ x: trainer.views.input, y: trainer.views.labels }, { epochs: 2, batchSize: 3 }).epochs);
    expect(inPlace).toEqual(copied);
  });

  it('a tensor with an array of numbers trains as the typed array does', () => {
    const tensor = { shape: [rows, 3], data: nested.flat() };
    trainer.init();
    const a = untimed(trainer.fit({ x: tensor, y: labels }, { epochs: 2, batchSize: 8 }).epochs);
    trainer.init();
    const b = untimed(trainer.fit({ x: Float32Array.from(nested.flat()), y: Int32Array.from(labels) }, { epochs: 2, batchSize: 8 }).epochs);
    expect(a).toEqual(b);
  });

  // 5 rows of 3: the bit test runs in lanes of four, then a tail of three values.
  it.each([0, 3, 7, 11, 12, 14])('a NaN or ±Infinity at value %i of a Float32Array is named by row and column, before any step', (at) => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const x = Float32Array.from(nested.slice(0, 5).flat());
      x[at] = bad;
      const steps = trainer.guard.steps;
      const call = (): unknown => trainer.fit({ x, y: labels.slice(0, 5) });
      expect(call).toThrow(InputError);
      expect(call).toThrow(`input 'x': row ${Math.floor(at / 3)}, column ${at % 3} is ${bad}; values must be finite in float32`);
      expect(trainer.guard.steps).toBe(steps);
    }
  });

  it('the largest float32 is accepted; a float64 beyond it is named with its float32 value', () => {
    const x = Float32Array.from(nested.slice(0, 2).flat());
    x[4] = -3.4028234663852886e38;
    expect(() => trainer.predict(x)).not.toThrow();
    const wide = Float64Array.from(x);
    wide[4] = -1e39;
    expect(() => trainer.predict(wide)).toThrow(`input 'x': row 1, column 1 is -1e+39, which is -Infinity in float32`);
  });

  it('labels given as a Float32Array are checked as class indices', () => {
    const y = Float32Array.from(labels.slice(0, 4));
    y[2] = 1.5;
    expect(() => trainer.trainStep(nested.slice(0, 4), y)).toThrow(`labels 'labels': row 2 is 1.5, expected a class index in [0, 3)`);
    y[2] = 3;
    expect(() => trainer.trainStep(nested.slice(0, 4), y)).toThrow(`labels 'labels': row 2 is 3, expected a class index in [0, 3)`);
  });
});

describe('regression metrics', () => {
  it('compare predictions with the targets as given, not with their float32 rounding', async () => {
    const trainer = await compile(regressor);
    const x = randomMatrix(19, 3, 21);
    // Tenths: none is a float32, so a metric on rounded targets would differ in its last bits.
    const y = x.map((r) => [Math.round(r[0]! * 10) / 10, Math.round(r[1]! * 10) / 10 + 0.1]);
    expect(y.flat().some((v) => Math.fround(v) !== v)).toBe(true);
    const prediction = trainer.predict(x).data;
    // The accumulation of metric_set.ts: per column in row order, then over the columns.
    const sums = [0, 1].map((c) => y.reduce((s, row, r) => s + Math.abs(prediction[r * 2 + c]! - row[c]!), 0));
    const squares = [0, 1].map((c) =>
      y.reduce((s, row, r) => {
        const e = prediction[r * 2 + c]! - row[c]!;
        return s + e * e;
      }, 0),
    );
    const evaluation = trainer.evaluate(x, y, { metrics: ['mae', 'mse'] });
    expect(evaluation.metrics!['mae']).toBe((sums[0]! + sums[1]!) / (2 * 19));
    expect(evaluation.metrics!['mse']).toBe((squares[0]! + squares[1]!) / (2 * 19));
    // The same targets as a Float32Array are their rounding: the metric says so.
    const rounded = trainer.evaluate(x, Float32Array.from(y.flat()), { metrics: ['mae'] });
    expect(rounded.metrics!['mae']).not.toBe(evaluation.metrics!['mae']);
    expect(rounded.loss).toBe(evaluation.loss);
  });
});
