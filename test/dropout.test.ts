// Dropout: seeded inverted-dropout masks, a new one each step, the same in the interpreter and
// the trainer; identity in inference; gradients checked three ways through the training loss.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { argmaxBlobs, randomMatrix } from './support/data.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';

const spec = {
  input: { shape: [4] },
  layers: [
    { type: 'dense', name: 'hidden', units: 12, activation: 'tanh' },
    { type: 'dropout', rate: 0.4 },
    { type: 'dense', name: 'out', units: 2 },
  ],
  loss: { type: 'mse' },
  optimizer: { type: 'sgd', learningRate: 0.05 },
  batchSize: 8,
  seed: 23,
};

describe('dropout', () => {
  it('is the identity in inference mode', async () => {
    const plain = { ...spec, layers: [spec.layers[0], spec.layers[2]] };
    const x = randomMatrix(8, 4, 70);
    for (const [a, b] of [[interpret(spec), interpret(plain)], [await compile(spec), await compile(plain)]] as const) {
      expect(Array.from(a.predict(x).data)).toEqual(Array.from(b.predict(x).data));
    }
  });

  it('agrees three ways through the training loss, on a full and a partial batch', async () => {
    for (const n of [8, 5]) {
      const x = randomMatrix(n, 4, 80 + n, 1.5);
      const y = randomMatrix(n, 2, 90 + n);
      const exact = await expectThreeWayAgreement(spec, x, y, { training: true, perturbSeed: null, nonZero: false });
      // The mask is live: the training loss differs from the inference loss.
      expect(Math.abs(exact.loss - interpret(spec).evaluate(x, y).loss)).toBeGreaterThan(1e-6);
    }
  });

  it('draws a new mask each step, the same compiled and interpreted; init() restarts the sequence', async () => {
    const trainer = await compile(spec);
    const interpreter = interpret(spec);
    const x = randomMatrix(8, 4, 71);
    const y = randomMatrix(8, 2, 72);
    const losses = (model: typeof trainer | typeof interpreter): number[] => [0, 1, 2, 3].map(() => model.trainStep(x, y));
    const a = losses(trainer);
    const b = losses(interpreter);
    a.forEach((l, i) => expect(l).toBeCloseTo(b[i]!, 5));
    expect(new Set(a.map((l) => l.toFixed(6))).size).toBe(4);
    expect(Array.from(trainer.views.state['optimizer:step']!)).toEqual([4]);
    trainer.init(23);
    expect(losses(trainer)).toEqual(a);
  });

  it('keeps about 1 − rate of the units, scaled by 1/(1 − rate)', async () => {
    const wide = { input: { shape: [1] }, layers: [{ type: 'dense', name: 'd', units: 1000, useBias: false, kernelInitializer: 'ones' }, { type: 'dropout', rate: 0.3 }], loss: { type: 'mse' }, batchSize: 4 };
    const model = interpret(wide);
    // mse against 0 with x = 1: the loss is the mean of mask², i.e. kept/count · (1/0.7)².
    const loss = model.gradients([[1], [1], [1], [1]], Array.from({ length: 4 }, () => new Array<number>(1000).fill(0))).loss;
    const kept = loss * 0.7 ** 2;
    expect(Math.abs(kept - 0.7)).toBeLessThan(0.02);
  });

  it('trains end to end (compiled)', async () => {
    const model = {
      input: { shape: [4] },
      layers: [
        { type: 'dense', units: 32, activation: 'relu' },
        { type: 'dropout', rate: 0.2 },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: { type: 'sparse_categorical_crossentropy' },
      optimizer: { type: 'adam', learningRate: 0.01 },
      batchSize: 16,
      seed: 6,
    };
    const history = (await compile(model)).fit(argmaxBlobs(240, 29), { epochs: 20, validationSplit: 0.25, seed: 2 });
    const last = history.epochs.at(-1)!;
    expect(last.valLoss!).toBeLessThan(history.epochs[0]!.valLoss! * 0.5);
    expect(last.valAccuracy).toBeGreaterThan(0.9);
  });
});
