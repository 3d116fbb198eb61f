// Every activation, beyond the three-way gradient agreement of test/gradients.test.ts: stable at
// ±100 (no NaN/Inf in value or derivative), interpreted and compiled, and trains end to end.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { activationNames, type ActivationSpec } from '../compiler/model/activations.ts';
import { randomMatrix } from './support/data.ts';

const HIDDEN: readonly ActivationSpec[] = [
  ...activationNames.filter((a) => a !== 'softmax'),
  { type: 'leaky_relu', alpha: 1.5 },
  { type: 'gelu', approximate: true },
  { type: 'swish', beta: 2 },
];

const specOf = (activation: ActivationSpec): object => ({
  input: { shape: [2] },
  layers: [
    { type: 'dense', name: 'hidden', units: 4, activation },
    { type: 'dense', name: 'out', units: 3, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  optimizer: { type: 'sgd', learningRate: 0.3 },
  batchSize: 8,
  seed: 11,
});

/** Three separable clusters: the label is the index of the largest of (x0, x1, −x0−x1). */
function blobs(rows: number, seed: number): { x: number[][]; y: number[] } {
  const x = randomMatrix(rows, 2, seed);
  const y = x.map(([a, b]) => [a!, b!, -a! - b!].reduce((best, v, k, all) => (v > all[best]! ? k : best), 0));
  return { x, y };
}

describe.each(HIDDEN.map((a) => [typeof a === 'string' ? a : JSON.stringify(a), a] as const))('%s', (_name, activation) => {
  it('is finite in value and derivative at ±100, interpreted and compiled', async () => {
    // Identity-like hidden weights put the pre-activations at exactly ±100.
    const weights = {
      'hidden.weight': [[1, 0], [0, 1], [-1, 0], [0, -1]],
      'hidden.bias': [0, 0, 0, 0],
      'out.weight': [[0.1, -0.2, 0.3, 0.1], [0.2, 0.1, -0.1, 0.3], [-0.3, 0.2, 0.1, -0.2]],
      'out.bias': [0, 0, 0],
    };
    const x = [[100, -100], [-100, 100], [100, 100], [-100, -100]];
    const y = [0, 1, 2, 0];
    for (const model of [interpret(specOf(activation)), await compile(specOf(activation))]) {
      model.setWeights(weights);
      const { loss, grads } = model.gradients(x, y);
      expect(Number.isFinite(loss), 'loss').toBe(true);
      expect(Array.from(model.predict(x).data).every(Number.isFinite), 'prediction').toBe(true);
      for (const [name, g] of Object.entries(grads)) expect(Array.from(g.data).every(Number.isFinite), name).toBe(true);
      // The hidden gradient flows (it is not all zeros) wherever the activation is not flat there.
      expect(Math.hypot(...grads['out.weight']!.data)).toBeGreaterThan(0);
    }
  });

  it('trains end to end (compiled)', async () => {
    const trainer = await compile(specOf(activation));
    const history = trainer.fit(blobs(160, 5), { epochs: 25, batchSize: 8, validationSplit: 0.25, seed: 1 });
    const last = history.epochs.at(-1)!;
    expect(last.loss).toBeLessThan(history.epochs[0]!.loss * 0.7);
    expect(last.valAccuracy).toBeGreaterThan(0.85);
  });
});
