// Each loss's value against its formula written out by hand (Keras's definitions), on fixed
// numbers chosen to hit the interesting branches: huber on both sides of δ, the probability clip,
// mean vs sum reduction. Gradients are checked three ways in test/gradients.test.ts.
import { describe, expect, it } from 'vitest';
import { interpret } from '../compiler/interpret/interpreter.ts';

const x = [
  [0.5, -1],
  [2, 0.25],
  [-0.75, 1.5],
];

/** A linear 2→2 layer with identity weights: the prediction is x itself (then the activation). */
function model(loss: object, activation = 'linear'): ReturnType<typeof interpret> {
  const m = interpret({ input: { shape: [2] }, layers: [{ type: 'dense', name: 'out', units: 2, activation }], loss, batchSize: 4 });
  m.setWeights({ 'out.weight': [[1, 0], [0, 1]], 'out.bias': [0, 0] });
  return m;
}

const meanOf = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
const perElement = (f: (p: number, y: number) => number, p: number[][], y: number[][]): number[][] => p.map((row, r) => row.map((v, c) => f(v, y[r]![c]!)));
const rowMeans = (m: number[][]): number[] => m.map(meanOf);

describe('losses match their formulas', () => {
  const y = [
    [1, 0],
    [0.5, 0.5],
    [0, 1],
  ];

  it('mae, mean and sum', () => {
    const e = perElement((p, t) => Math.abs(p - t), x, y);
    expect(model({ type: 'mae' }).evaluate(x, y).loss).toBeCloseTo(meanOf(rowMeans(e)), 12);
    expect(model({ type: 'mae', reduction: 'sum' }).trainStep(x, y)).toBeCloseTo(rowMeans(e).reduce((a, b) => a + b), 12);
  });

  it('huber on both sides of δ', () => {
    const delta = 0.6;
    const e = perElement((p, t) => (Math.abs(p - t) <= delta ? 0.5 * (p - t) ** 2 : delta * (Math.abs(p - t) - 0.5 * delta)), x, y);
    expect(e.flat().some((_v, i) => Math.abs(x.flat()[i]! - y.flat()[i]!) > delta)).toBe(true);
    expect(e.flat().some((_v, i) => Math.abs(x.flat()[i]! - y.flat()[i]!) < delta)).toBe(true);
    expect(model({ type: 'huber', delta }).evaluate(x, y).loss).toBeCloseTo(meanOf(rowMeans(e)), 12);
  });

  it('binary cross-entropy on probabilities clips to [1e-7, 1 − 1e-7] as Keras', () => {
    const p = [
      [0.2, 0.9],
      [1.5, 0.5],
      [-0.1, 0.3],
    ];
    const yb = [
      [1, 0],
      [0, 1],
      [1, 1],
    ];
    const eps = 1e-7;
    const e = perElement((q, t) => {
      const c = Math.min(Math.max(q, eps), 1 - eps);
      return -(t * Math.log(c) + (1 - t) * Math.log(1 - c));
    }, p, yb);
    const m = model({ type: 'binary_crossentropy' });
    expect(m.evaluate(p, yb).loss).toBeCloseTo(meanOf(rowMeans(e)), 10);
    // Where the clip bites (1.5 and −0.1), the gradient does not pass: the row's input gets none.
    const g = m.gradients([[1.5, -0.1]], [[0, 1]]).grads['out.weight']!.data;
    expect(Array.from(g)).toEqual([0, 0, 0, 0]);
  });

  it('categorical cross-entropy: on softmax, from logits, and on other probabilities', () => {
    const soft = (row: number[]): number[] => {
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b);
      return e.map((v) => v / s);
    };
    const ce = (probs: number[][]): number[] => probs.map((row, r) => -row.reduce((acc, q, c) => acc + y[r]![c]! * Math.log(q), 0));
    expect(model({ type: 'categorical_crossentropy' }, 'softmax').evaluate(x, y).loss).toBeCloseTo(meanOf(ce(x.map(soft))), 12);
    expect(model({ type: 'categorical_crossentropy', fromLogits: true }).evaluate(x, y).loss).toBeCloseTo(meanOf(ce(x.map(soft))), 12);
    const sig = x.map((row) => row.map((v) => 1 / (1 + Math.exp(-v))));
    const normalised = sig.map((row) => row.map((v) => Math.min(Math.max(v / (row[0]! + row[1]!), 1e-7), 1 - 1e-7)));
    expect(model({ type: 'categorical_crossentropy', reduction: 'sum' }, 'sigmoid').evaluate(x, y).loss).toBeCloseTo(
      ce(normalised).reduce((a, b) => a + b),
      12,
    );
  });

  it('reports accuracy for categorical cross-entropy from the one-hot targets', () => {
    const onehot = [
      [1, 0],
      [1, 0],
      [0, 1],
    ];
    expect(model({ type: 'categorical_crossentropy' }, 'softmax').evaluate(x, onehot).accuracy).toBeCloseTo(1, 12);
  });
});
