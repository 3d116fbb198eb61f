// Every pooling and padding layer, and the per-channel layers on images and sequences, in small
// models checked three ways (interpreter vs centered differences ≤ 1e-7, compiled vs interpreter
// ≤ 1e-5), with a full and a partial batch. A dense layer feeds each layer under test (so its
// backward pass runs) through a reshape to [h, w, c] or [steps, c]; a flatten (or the global
// pooling itself) feeds the dense output layer.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { parseSpec } from '../compiler/model/spec.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { formatSummary, summarize } from '../compiler/model/summary.ts';
import { randomMatrix } from './support/data.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';

interface LayerCase {
  readonly name: string;
  /** The per-sample shape the layers under test read. */
  readonly view: readonly number[];
  readonly layers: readonly Record<string, unknown>[];
  /** The per-sample shape they produce (flattened for the output layer). */
  readonly out: readonly number[];
  readonly training?: boolean;
}

const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

const CASES: readonly LayerCase[] = [
  { name: 'max_pooling2d 2×2 (Keras defaults)', view: [4, 4, 4], layers: [{ type: 'max_pooling2d' }], out: [2, 2, 4] },
  { name: 'max_pooling2d 3×3 strides 2 same', view: [5, 5, 3], layers: [{ type: 'max_pooling2d', poolSize: 3, strides: 2, padding: 'same' }], out: [3, 3, 3] },
  { name: 'average_pooling2d [2, 3] strides 1 valid', view: [3, 4, 4], layers: [{ type: 'average_pooling2d', poolSize: [2, 3], strides: 1 }], out: [2, 2, 4] },
  { name: 'average_pooling2d 2×2 strides 2 same (odd sizes: border windows)', view: [3, 5, 6], layers: [{ type: 'average_pooling2d', padding: 'same' }], out: [2, 3, 6] },
  { name: 'max_pooling1d 2 (Keras defaults)', view: [6, 4], layers: [{ type: 'max_pooling1d' }], out: [3, 4] },
  { name: 'average_pooling1d 3 strides 1 same', view: [5, 3], layers: [{ type: 'average_pooling1d', poolSize: 3, strides: 1, padding: 'same' }], out: [5, 3] },
  { name: 'global_average_pooling2d', view: [3, 3, 4], layers: [{ type: 'global_average_pooling2d' }], out: [4] },
  { name: 'global_average_pooling2d keepdims', view: [2, 3, 5], layers: [{ type: 'global_average_pooling2d', keepdims: true }], out: [1, 1, 5] },
  { name: 'global_max_pooling2d', view: [3, 3, 6], layers: [{ type: 'global_max_pooling2d' }], out: [6] },
  { name: 'global_average_pooling1d', view: [5, 3], layers: [{ type: 'global_average_pooling1d' }], out: [3] },
  { name: 'zero_padding2d 1 (Keras default)', view: [2, 3, 2], layers: [{ type: 'zero_padding2d' }], out: [4, 5, 2] },
  { name: 'zero_padding2d [[1, 0], [2, 1]] then max_pooling2d', view: [3, 2, 4], layers: [{ type: 'zero_padding2d', padding: [[1, 0], [2, 1]] }, { type: 'max_pooling2d' }], out: [2, 2, 4] },
  { name: 'batch_normalization per channel on [h, w, c]', view: [3, 3, 4], layers: [{ type: 'batch_normalization' }], out: [3, 3, 4], training: true },
  { name: 'batch_normalization per channel on [steps, c], no scale', view: [4, 3], layers: [{ type: 'batch_normalization', scale: false }], out: [4, 3], training: true },
  { name: 'layer_normalization over the channels of [steps, c]', view: [3, 5], layers: [{ type: 'layer_normalization' }], out: [3, 5] },
  { name: 'dropout on [h, w, c] (training pass)', view: [2, 2, 5], layers: [{ type: 'dropout', rate: 0.3 }], out: [2, 2, 5], training: true },
];

function specOf(c: LayerCase): unknown {
  const features = size(c.view);
  return {
    input: { shape: [3] },
    layers: [
      { type: 'dense', units: features, activation: 'tanh' },
      { type: 'reshape', targetShape: c.view },
      ...c.layers,
      ...(c.out.length > 1 ? [{ type: 'flatten' }] : []),
      { type: 'dense', units: 2 },
    ],
    loss: { type: 'mse' },
    batchSize: 4,
    seed: 21,
  };
}

describe('image and sequence layers: three-way gradients, full and partial batch', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    for (const rows of [4, 3]) {
      await expectThreeWayAgreement(specOf(c), randomMatrix(rows, 3, 30 + rows, 1.5), randomMatrix(rows, 2, 40 + rows), { training: c.training ?? false });
    }
  });

  it('give the output shapes Keras gives (the summary shows them)', () => {
    for (const c of CASES) {
      const summary = formatSummary(summarize(specOf(c))).join('\n');
      expect(summary, c.name).toContain(`[N, ${c.out.join(', ')}]`);
    }
  });
});

describe('image layer options', () => {
  const spec = (layer: Record<string, unknown>, view: number[] = [4, 4, 2]) => ({
    input: { shape: view },
    layers: [layer, { type: 'global_average_pooling2d' }, { type: 'dense', units: 1 }],
    loss: { type: 'mse' },
  });

  it('refuse a window that does not fit, a wrong rank and malformed padding, naming the layer', () => {
    expect(() => interpret(spec({ type: 'max_pooling2d', poolSize: 5 }))).toThrow(/max_pooling2d.*does not fit/);
    expect(() => interpret(spec({ type: 'max_pooling1d' }))).toThrow(/max_pooling1d takes \[steps, channels\]/);
    expect(() => interpret(spec({ type: 'average_pooling2d', poolSize: [2, 2, 2] }))).toThrow(/poolSize/);
    expect(() => parseSpec(spec({ type: 'zero_padding2d', padding: [1, 2, 3] }))).toThrow(/padding/);
    expect(() => parseSpec(spec({ type: 'zero_padding2d', padding: -1 }))).toThrow(/padding/);
  });
});

describe('batch_normalization on images', () => {
  it('takes its statistics per channel over batch and pixels, and keeps running statistics of shape [c]', async () => {
    const spec = {
      input: { shape: [2, 2, 3] },
      layers: [{ type: 'batch_normalization', name: 'bn' }, { type: 'flatten' }],
      loss: { type: 'mse' },
      batchSize: 4,
    };
    for (const rows of [4, 3]) {
      const x = randomMatrix(rows, 12, 70 + rows, 2);
      const y = randomMatrix(rows, 12, 80 + rows);
      const values = (c: number) => x.flatMap((r) => r.filter((_, i) => i % 3 === c));
      const mean = [0, 1, 2].map((c) => values(c).reduce((a, v) => a + v, 0) / (4 * rows));
      const variance = [0, 1, 2].map((c) => values(c).reduce((a, v) => a + (v - mean[c]!) ** 2, 0) / (4 * rows));
      for (const model of [interpret(spec), await compile(spec)]) {
        expect(model.signature.params.map((p) => [p.name, p.shape])).toEqual([
          ['bn.weight', [3]],
          ['bn.bias', [3]],
          ['bn.running_mean', [3]],
          ['bn.running_var', [3]],
        ]);
        const expectedLoss = x.flat().reduce((acc, v, i) => acc + ((v - mean[i % 3]!) / Math.sqrt(variance[i % 3]! + 1e-3) - y.flat()[i]!) ** 2, 0) / (12 * rows);
        expect(model.trainStep(x, y)).toBeCloseTo(expectedLoss, 5);
        const after = model.getWeights();
        after['bn.running_mean']!.data.forEach((v, c) => expect(v).toBeCloseTo(0.01 * mean[c]!, 6));
        after['bn.running_var']!.data.forEach((v, c) => expect(v).toBeCloseTo(0.99 + 0.01 * variance[c]!, 6));
      }
    }
  });
});

describe('merges of images: graph form, three-way', () => {
  const graph = (nodes: readonly Record<string, unknown>[], head: string) => ({
    inputs: [{ name: 'x', shape: [3] }],
    nodes: [
      { type: 'dense', name: 'd', units: 48, activation: 'tanh', inputs: ['x'] },
      { type: 'reshape', name: 'image', targetShape: [4, 4, 3], inputs: ['d'] },
      ...nodes,
      { type: 'global_average_pooling2d', name: 'gap', inputs: [head] },
      { type: 'dense', name: 'out', units: 2, inputs: ['gap'] },
    ],
    outputs: [{ node: 'out', loss: { type: 'mse' } }],
    batchSize: 4,
    seed: 31,
  });
  const CASES = [
    {
      name: 'residual block: conv2d same relu → batch_normalization, added to its input, then max_pooling2d',
      spec: graph(
        [
          { type: 'conv2d', name: 'conv', filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', inputs: ['image'] },
          { type: 'batch_normalization', name: 'bn', inputs: ['conv'] },
          { type: 'add', name: 'skip', inputs: ['image', 'bn'] },
          { type: 'max_pooling2d', name: 'pool', inputs: ['skip'] },
        ],
        'pool',
      ),
      training: true,
    },
    {
      name: 'multiply and concatenate (channels) of images',
      spec: graph(
        [
          { type: 'average_pooling2d', name: 'a', poolSize: 2, strides: 1, padding: 'same', inputs: ['image'] },
          { type: 'multiply', name: 'gated', inputs: ['image', 'a'] },
          { type: 'concatenate', name: 'both', inputs: ['gated', 'image', 'a'] },
        ],
        'both',
      ),
    },
  ];
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    for (const rows of [4, 3]) {
      await expectThreeWayAgreement(c.spec, { x: randomMatrix(rows, 3, 50 + rows, 1.5) }, { out: randomMatrix(rows, 2, 60 + rows) }, { training: c.training ?? false });
    }
  });
});
