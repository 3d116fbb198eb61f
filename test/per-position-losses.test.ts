// Losses per position: an output of [steps, units] per sample (a language model's next-token
// scores at every position) takes labels of [steps] class ids or [steps, units] targets, and the
// loss is the mean over the n·steps positions (Keras on a [N, steps, units] output). Checked
// against the formula, three ways (full and partial batch), end to end, and the refusals.
import { describe, expect, it } from 'vitest';
import { prepareLabels } from '../compiler/cli/labels.ts';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { randomMatrix } from './support/data.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';

const STEPS = 3;
const FEATURES = 4;
const CLASSES = 5;

/** [steps, features] → dense per position (→ [steps, units]), with `loss`. */
const perPosition = (loss: object, units: number, activation: string) => ({
  input: { shape: [STEPS, FEATURES] },
  layers: [
    { type: 'dense', name: 'hidden', units: 6, activation: 'tanh' },
    { type: 'dense', name: 'out', units, activation },
  ],
  loss,
  batchSize: 4,
});

const sequences = (rows: number, width: number, seed: number): number[][][] =>
  randomMatrix(rows, STEPS * width, seed).map((flat) => Array.from({ length: STEPS }, (_, t) => flat.slice(t * width, (t + 1) * width)));
const classIds = (rows: number, seed: number): number[][] => randomMatrix(rows, STEPS, seed).map((row) => row.map((v) => Math.floor(((v + 1) / 2) * CLASSES) % CLASSES));

describe('per-position losses match their formula', () => {
  it('sparse categorical cross-entropy is the mean of −log p(label) over every position of every row', () => {
    const m = interpret(perPosition({ type: 'sparse_categorical_crossentropy' }, CLASSES, 'softmax'));
    const x = sequences(3, FEATURES, 1);
    const y = classIds(3, 2);
    const p = m.predict(x) as unknown as { data: ArrayLike<number>; shape: readonly number[] };
    expect(p.shape).toEqual([3, STEPS, CLASSES]);
    let total = 0;
    for (let r = 0; r < 3; r++) for (let t = 0; t < STEPS; t++) total -= Math.log(p.data[(r * STEPS + t) * CLASSES + y[r]![t]!]!);
    expect(m.evaluate(x, y).loss).toBeCloseTo(total / (3 * STEPS), 10);
  });

  it('mse with reduction sum adds each position’s mean over its units', () => {
    const m = interpret(perPosition({ type: 'mse', reduction: 'sum' }, 2, 'linear'));
    const x = sequences(2, FEATURES, 3);
    const y = sequences(2, 2, 4);
    const p = m.predict(x) as unknown as { data: ArrayLike<number> };
    const flat = y.flat(2);
    let total = 0;
    for (let i = 0; i < flat.length; i++) total += (p.data[i]! - flat[i]!) ** 2 / 2;
    expect(m.trainStep(x, y)).toBeCloseTo(total, 10);
  });
});

describe('per-position losses agree three ways, full and partial batch', () => {
  it('sparse categorical cross-entropy on a softmax per position', async () => {
    const spec = perPosition({ type: 'sparse_categorical_crossentropy' }, CLASSES, 'softmax');
    await expectThreeWayAgreement(spec, sequences(4, FEATURES, 10), classIds(4, 11));
    await expectThreeWayAgreement(spec, sequences(3, FEATURES, 12), classIds(3, 13));
  });

  it('categorical cross-entropy from logits, summed', async () => {
    const spec = perPosition({ type: 'categorical_crossentropy', fromLogits: true, reduction: 'sum' }, CLASSES, 'linear');
    const targets = (rows: number, seed: number) => classIds(rows, seed).map((row) => row.map((k) => Array.from({ length: CLASSES }, (_, c) => (c === k ? 1 : 0))));
    await expectThreeWayAgreement(spec, sequences(4, FEATURES, 20), targets(4, 21));
    await expectThreeWayAgreement(spec, sequences(3, FEATURES, 22), targets(3, 23));
  });

  it('mae and mse on [steps, features] targets', async () => {
    for (const type of ['mse', 'mae']) {
      const spec = perPosition({ type }, 2, 'linear');
      await expectThreeWayAgreement(spec, sequences(4, FEATURES, 30), sequences(4, 2, 31));
      await expectThreeWayAgreement(spec, sequences(3, FEATURES, 32), sequences(3, 2, 33));
    }
  });
});

/** Position t's class is the feature of x[t] that is largest: learnable per position. */
function argmaxTask(rows: number, seed: number): { x: number[][][]; y: number[][] } {
  const x = sequences(rows, FEATURES, seed);
  return { x, y: x.map((steps) => steps.map((f) => f.indexOf(Math.max(...f)))) };
}

describe('per-position training end to end (compiled)', () => {
  it('learns a class per position; evaluate and the accuracy metric count positions', async () => {
    const trainer = await compile({
      input: { shape: [STEPS, FEATURES] },
      layers: [
        { type: 'dense', name: 'hidden', units: 16, activation: 'tanh' },
        { type: 'dense', name: 'out', units: FEATURES, activation: 'softmax' },
      ],
      loss: { type: 'sparse_categorical_crossentropy' },
      optimizer: { type: 'adam', learningRate: 0.02 },
      batchSize: 16,
      seed: 3,
    });
    const train = argmaxTask(96, 40);
    const test = argmaxTask(50, 41);
    const before = trainer.evaluate(test.x, test.y).loss;
    trainer.fit(train, { epochs: 60, seed: 1 });
    const after = trainer.evaluate(test.x, test.y, { metrics: ['sparse_categorical_accuracy'] });
    expect(after.loss).toBeLessThan(before / 3);
    // 50 rows (a partial last batch of 2), 150 positions: accuracy is the share of positions right.
    const p = trainer.predict(test.x);
    expect(p.shape).toEqual([50, STEPS, FEATURES]);
    let right = 0;
    for (let i = 0; i < 50 * STEPS; i++) {
      const row = Array.from(p.data.subarray(i * FEATURES, (i + 1) * FEATURES));
      if (row.indexOf(Math.max(...row)) === test.y[Math.floor(i / STEPS)]![i % STEPS]) right++;
    }
    expect(after.accuracy).toBeCloseTo(right / (50 * STEPS), 12);
    expect(after.metrics!['sparse_categorical_accuracy']).toBeCloseTo(right / (50 * STEPS), 12);
    expect(after.accuracy).toBeGreaterThan(0.9);
  });
});

describe('per-position labels that do not fit are refused, naming the labels', () => {
  const spec = perPosition({ type: 'sparse_categorical_crossentropy' }, CLASSES, 'softmax');
  const x = sequences(2, FEATURES, 50);

  it('one class per row, or too few positions, where each of the 3 positions needs one', () => {
    expect(() => interpret(spec).evaluate(x, [1, 2])).toThrow("labels 'labels': expected rows of 3 values (an array of arrays), got a flat array");
    expect(() => interpret(spec).evaluate(x, [[0, 1], [1, 2]])).toThrow("labels 'labels': row 0 has 2 values, expected 3");
  });

  it('a class id outside [0, classes), by row and position (column)', () => {
    expect(() => interpret(spec).evaluate(x, [[0, 1, 2], [3, 5, 0]])).toThrow("labels 'labels': row 1, column 1 is 5, expected a class index in [0, 5)");
  });

  it('targets of the wrong width per position (compiled)', async () => {
    const trainer = await compile(perPosition({ type: 'mse' }, 2, 'linear'));
    expect(() => trainer.evaluate(x, sequences(2, 3, 51))).toThrow("labels 'labels': sample 0[0] has length 3, expected 2");
  });
});

describe('the CLI refuses per-position models, whose labels a CSV column cannot hold', () => {
  it('names the model and the per-sample prediction shape', () => {
    const { signature } = interpret({ ...perPosition({ type: 'sparse_categorical_crossentropy' }, CLASSES, 'softmax'), name: 'lm' });
    expect(() => prepareLabels(signature, { source: 'data.csv', y: Float64Array.of(0, 1, 2) })).toThrow(
      "model 'lm' predicts [3, 5] per sample, a loss at every position; a CSV has one label column per row: train it through the API",
    );
  });
});
