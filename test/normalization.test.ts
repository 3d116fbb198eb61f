// Batch normalization (train vs inference mode) and layer normalization beyond the three-way gradient check of test/gradients.test.ts: its value
// against the formula, compiled and interpreted, and end-to-end training.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { argmaxBlobs, randomMatrix } from './support/data.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';

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

  // The layer_norm kernels' f32x4 loops and scalar tails at every width, over rows of [N, C],
  // [N, L, C] and [N, H, W, C], in even and odd row counts (the kernels take rows in pairs, then
  // the last one alone): a dense layer on the last axis feeds the normalization, so its
  // gradient reaches the dense weights through layer_norm_grad. Width 1 normalizes every value
  // to 0 (only β then has a gradient), so its check allows zero gradients.
  describe.each([
    { lead: [], width: 3 },
    { lead: [], width: 64 },
    { lead: [2], width: 5 },
    { lead: [2], width: 67 },
    { lead: [2, 2], width: 3 },
    { lead: [3], width: 1 },
  ])('over rows of $width values behind [N$lead]', ({ lead, width }) => {
    const rowsSpec = {
      input: { shape: [...lead, 3] },
      layers: [
        { type: 'dense', name: 'proj', units: width },
        { type: 'layer_normalization', name: 'norm', epsilon: 1e-3 },
        ...(lead.length ? [{ type: 'flatten' }] : []),
        { type: 'dense', name: 'out', units: 2 },
      ],
      loss: { type: 'mse' },
      batchSize: 6,
      seed: 3,
    };
    const features = 3 * lead.reduce((a, b) => a * b, 1);
    it.each([
      ['full batch', 6],
      ['partial batch', 5],
    ])('agrees three ways on a %s', async (_label, n) => {
      const exact = await expectThreeWayAgreement(rowsSpec, randomMatrix(n, features, 30 + n, 2), randomMatrix(n, 2, 40 + n), { nonZero: width > 1 });
      if (width === 1) {
        expect(Math.hypot(...exact.grads['norm.bias']!.data)).toBeGreaterThan(0);
        expect(Array.from(exact.grads['proj.weight']!.data).every((v) => v === 0)).toBe(true);
      }
    });
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
    const { x, y } = argmaxBlobs(240, 9);
    const history = (await compile(model)).fit({ x, y }, { epochs: 20, validationSplit: 0.25, seed: 2 });
    const last = history.epochs.at(-1)!;
    expect(last.loss).toBeLessThan(history.epochs[0]!.loss * 0.5);
    expect(last.valAccuracy).toBeGreaterThan(0.9);
  });
});

const bnSpec = {
  input: { shape: [4] },
  layers: [
    { type: 'dense', name: 'd1', units: 5, activation: 'relu' },
    { type: 'batch_normalization', name: 'bn1' },
    { type: 'dense', name: 'd2', units: 3, activation: 'tanh' },
    { type: 'batch_normalization', name: 'bn2', center: false, momentum: 0.9 },
    { type: 'dense', name: 'out', units: 2 },
  ],
  loss: { type: 'mse' },
  batchSize: 8,
  seed: 17,
};

describe('batch_normalization', () => {
  // Acceptance 1 for batch norm: checked in training mode, through the batch statistics. The
  // numerical gradient differentiates the training loss (what gradients() returns), not evaluate().
  it.each([
    ['full batch', 8],
    ['partial batch', 5],
  ])('agrees three ways in training mode on a %s', async (_label, n) => {
    const x = randomMatrix(n, 4, 40 + n, 1.5);
    const y = randomMatrix(n, 2, 50 + n);
    const exact = await expectThreeWayAgreement(bnSpec, x, y, { training: true, perturbSeed: 200 });
    expect(Object.keys(exact.grads)).toEqual(['d1.weight', 'd1.bias', 'bn1.weight', 'bn1.bias', 'd2.weight', 'd2.bias', 'bn2.weight', 'out.weight', 'out.bias']);
  });

  it('normalises by batch statistics in training and running statistics in inference; a step updates them with momentum', async () => {
    const spec = { input: { shape: [3] }, layers: [{ type: 'batch_normalization', name: 'bn', epsilon: 1e-3 }], loss: { type: 'mse' }, batchSize: 4 };
    const x = randomMatrix(4, 3, 60, 2);
    const y = randomMatrix(4, 3, 61);
    const mean = [0, 1, 2].map((c) => x.reduce((a, r) => a + r[c]!, 0) / 4);
    const variance = [0, 1, 2].map((c) => x.reduce((a, r) => a + (r[c]! - mean[c]!) ** 2, 0) / 4);
    const runningMean = [0.5, -1, 2];
    const runningVar = [1, 4, 0.25];
    for (const model of [interpret(spec), await compile(spec)]) {
      expect(model.signature.params.map((p) => [p.name, p.trainable])).toEqual([
        ['bn.weight', undefined],
        ['bn.bias', undefined],
        ['bn.running_mean', false],
        ['bn.running_var', false],
      ]);
      model.setWeights({ 'bn.weight': [1, 1, 1], 'bn.bias': [0, 0, 0], 'bn.running_mean': runningMean, 'bn.running_var': runningVar });
      // Inference: the running statistics.
      const inferred = model.predict(x).data;
      x.flat().forEach((v, i) => expect(inferred[i]!).toBeCloseTo((v - runningMean[i % 3]!) / Math.sqrt(runningVar[i % 3]! + 1e-3), 5));
      // Training: the batch statistics give the loss.
      const expectedLoss = x.flat().reduce((acc, v, i) => acc + ((v - mean[i % 3]!) / Math.sqrt(variance[i % 3]! + 1e-3) - y.flat()[i]!) ** 2, 0) / 12;
      expect(model.gradients(x, y).loss).toBeCloseTo(expectedLoss, 5);
      expect(model.trainStep(x, y)).toBeCloseTo(expectedLoss, 5);
      const after = model.getWeights();
      after['bn.running_mean']!.data.forEach((v, c) => expect(v).toBeCloseTo(0.99 * runningMean[c]! + 0.01 * mean[c]!, 6));
      after['bn.running_var']!.data.forEach((v, c) => expect(v).toBeCloseTo(0.99 * runningVar[c]! + 0.01 * variance[c]!, 6));
    }
  });

  it('trains end to end and predicts in inference mode (compiled, matches the interpreter)', async () => {
    const model = {
      input: { shape: [4] },
      layers: [
        { type: 'dense', units: 16 },
        { type: 'batch_normalization' },
        { type: 'activation', activation: 'relu' },
        { type: 'dense', units: 16, activation: 'relu' },
        { type: 'batch_normalization' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: { type: 'sparse_categorical_crossentropy' },
      optimizer: { type: 'adam', learningRate: 0.005 },
      batchSize: 16,
      seed: 5,
    };
    const { x, y } = argmaxBlobs(240, 19, 3);
    const options = { epochs: 20, validationSplit: 0.25, seed: 2 };
    const compiled = (await compile(model)).fit({ x, y }, options);
    const interpreted = interpret(model).fit({ x, y }, options);
    compiled.epochs.forEach((e, i) => expect(e.loss).toBeCloseTo(interpreted.epochs[i]!.loss, 3));
    const last = compiled.epochs.at(-1)!;
    // Validation runs in inference mode (running statistics), so it also checks their updates.
    expect(last.valLoss!).toBeLessThan(compiled.epochs[0]!.valLoss! * 0.5);
    expect(last.valAccuracy).toBeGreaterThan(0.9);
  });
});
