// Layer normalization beyond the three-way gradient check of test/gradients.test.ts: its value
// against the formula, compiled and interpreted, and end-to-end training.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { randomMatrix } from './support/data.ts';

const spec = {
  input: { shape: [5] },
  layers: [{ type: 'layer_normalization', name: 'norm', epsilon: 1e-3 }],
  loss: { type: 'mse' },
  batchSize: 4,
};

describe('layer_normalization', () => {
  it('normalises each row, then scales by γ and shifts by β, as Keras', async () => {
    const x = randomMatrix(3, 5, 3, 4);
    const gamma = [1, 2, 0.5, -1, 3];
    const beta = [0, 0.1, -0.2, 0.3, 1];
    const expected = x.flatMap((row) => {
      const mu = row.reduce((a, b) => a + b) / row.length;
      const variance = row.reduce((a, b) => a + (b - mu) ** 2, 0) / row.length;
      return row.map((v, c) => ((v - mu) / Math.sqrt(variance + 1e-3)) * gamma[c]! + beta[c]!);
    });
    for (const model of [interpret(spec), await compile(spec)]) {
      expect(Object.keys(model.getWeights())).toEqual(['norm.weight', 'norm.bias']);
      expect(Array.from(model.getWeights()['norm.weight']!.data)).toEqual([1, 1, 1, 1, 1]);
      model.setWeights({ 'norm.weight': gamma, 'norm.bias': beta });
      const got = Array.from(model.predict(x).data);
      got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    }
  });

  it('trains end to end in a deeper net (compiled)', async () => {
    const model = {
      input: { shape: [4] },
      layers: [
        { type: 'dense', units: 16, activation: 'gelu' },
        { type: 'layer_normalization' },
        { type: 'dense', units: 16, activation: 'relu' },
        { type: 'layer_normalization' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: { type: 'sparse_categorical_crossentropy' },
      optimizer: { type: 'adam', learningRate: 0.01 },
      batchSize: 16,
      seed: 4,
    };
    // The label is the index of the largest of the first three features.
    const x = randomMatrix(240, 4, 9);
    const y = x.map((r) => [0, 1, 2].reduce((best, k) => (r[k]! > r[best]! ? k : best), 0));
    const history = (await compile(model)).fit({ x, y }, { epochs: 20, validationSplit: 0.25, seed: 2 });
    const last = history.epochs.at(-1)!;
    expect(last.loss).toBeLessThan(history.epochs[0]!.loss * 0.5);
    expect(last.valAccuracy).toBeGreaterThan(0.9);
  });
});
