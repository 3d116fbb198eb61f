// conv1d, depthwise_conv2d and separable_conv2d: each computes what an equivalent conv2d (or pair
// of them) computes with the corresponding weights, interpreted; each is checked three ways
// (numerical, float64 interpreter, compiled float32), full and partial batch.
import { describe, expect, it } from 'vitest';
import { interpret } from '../../compiler/interpret/interpreter.ts';
import '../fixtures/image_layers.ts';
import { randomClasses, randomMatrix } from '../support/data.ts';
import { expectThreeWayAgreement } from '../support/three-way.ts';

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A model reading [h·w·c] features as an image, `layers` on it, flattened to its output (mse). */
function imageModel(image: readonly number[], layers: readonly Record<string, unknown>[]): Record<string, unknown> {
  return { name: 'v', input: { shape: [size(image)] }, layers: [{ type: 'to_image', shape: image }, ...layers, { type: 'to_rows' }], loss: { type: 'mse' }, batchSize: 5, seed: 9 };
}

/** A classifier: `layers`, then a softmax head of 3 classes (what the three-way checks train). */
const classifier = (image: readonly number[], layers: readonly Record<string, unknown>[]) => {
  const spec = imageModel(image, layers) as { layers: unknown[] };
  return { ...spec, layers: [...spec.layers, { type: 'dense', name: 'head', units: 3, activation: 'softmax' }], loss: { type: 'sparse_categorical_crossentropy' } };
};

/** The predictions of `spec` for x with `weights` set. */
function predict(spec: unknown, weights: Record<string, Float64Array>, x: number[][]): Float64Array {
  const model = interpret(spec);
  model.setWeights(weights);
  return model.predict(x).data as Float64Array;
}

const random = (count: number, seed: number): Float64Array => Float64Array.from(randomMatrix(1, count, seed)[0]!);

describe('conv1d', () => {
  it('is conv2d over an image of height 1 with a [filters, in, 1, k] kernel', () => {
    const x = randomMatrix(3, 7 * 2, 1);
    const w = random(3 * 2 * 3, 2);
    const bias = random(3, 3);
    const conv = { filters: 3, kernelSize: 3, strides: 2, padding: 'same' };
    const one = predict(imageModel([7, 2], [{ type: 'conv1d', name: 'c', ...conv }]), { 'c.weight': w, 'c.bias': bias }, x);
    const two = predict(imageModel([1, 7, 2], [{ type: 'conv2d', name: 'c', ...conv, kernelSize: [1, 3], strides: [1, 2] }]), { 'c.weight': w, 'c.bias': bias }, x);
    expect(one.length).toBe(3 * 4 * 3);
    expect(Array.from(one)).toEqual(Array.from(two));
  });

  it.each([
    ['valid, relu', { filters: 3, kernelSize: 3, activation: 'relu' }],
    ['same, stride 2', { filters: 2, kernelSize: 2, strides: 2, padding: 'same' }],
    ['dilation 2, no bias', { filters: 2, kernelSize: 3, dilationRate: 2, useBias: false }],
  ])('agrees three ways: %s, full and partial batch', async (_name, conv) => {
    for (const rows of [5, 3]) await expectThreeWayAgreement(classifier([8, 2], [{ type: 'conv1d', name: 'c', ...conv }]), randomMatrix(rows, 16, 70 + rows, 1.5), randomClasses(rows, 3, 80 + rows));
  });
});

describe('depthwise_conv2d', () => {
  it('is conv2d with each filter reading only its own channel (output channel c·M + m)', () => {
    const [h, w, c, m] = [5, 4, 2, 2];
    const x = randomMatrix(3, h * w * c, 4);
    const kernel = random(c * m * 9, 5);
    const bias = random(c * m, 6);
    const conv = { kernelSize: 3, padding: 'same', strides: [2, 1] };
    const depth = predict(imageModel([h, w, c], [{ type: 'depthwise_conv2d', name: 'd', depthMultiplier: m, ...conv }]), { 'd.weight': kernel, 'd.bias': bias }, x);
    // The full kernel [c·m, c, 3, 3]: filter o = ch·m + k reads channel ch only.
    const full = new Float64Array(c * m * c * 9);
    for (let o = 0; o < c * m; o++) full.set(kernel.subarray(o * 9, o * 9 + 9), (o * c + Math.floor(o / m)) * 9);
    const dense = predict(imageModel([h, w, c], [{ type: 'conv2d', name: 'd', filters: c * m, ...conv }]), { 'd.weight': full, 'd.bias': bias }, x);
    expect(depth.length).toBe(3 * 3 * 4 * c * m);
    depth.forEach((v, i) => expect(v).toBeCloseTo(dense[i]!, 12));
  });

  it.each([
    ['multiplier 1, valid, relu', { kernelSize: 3, activation: 'relu' }],
    ['multiplier 2, same, stride 2', { kernelSize: [3, 2], depthMultiplier: 2, strides: 2, padding: 'same' }],
    ['dilation 2, no bias', { kernelSize: 2, dilationRate: 2, useBias: false }],
  ])('agrees three ways: %s, full and partial batch', async (_name, conv) => {
    for (const rows of [5, 3]) await expectThreeWayAgreement(classifier([5, 5, 2], [{ type: 'depthwise_conv2d', name: 'd', ...conv }]), randomMatrix(rows, 50, 90 + rows, 1.5), randomClasses(rows, 3, 100 + rows));
  });
});

describe('separable_conv2d', () => {
  it('is depthwise_conv2d (no bias) then a 1×1 conv2d', () => {
    const x = randomMatrix(3, 5 * 5 * 3, 7);
    const depthwise = random(3 * 2 * 4, 8);
    const pointwise = random(4 * 6, 9);
    const bias = random(4, 10);
    const window = { kernelSize: 2, depthMultiplier: 2, padding: 'same' };
    const separable = predict(imageModel([5, 5, 3], [{ type: 'separable_conv2d', name: 's', filters: 4, ...window, activation: 'tanh' }]), {
      's.depthwise_weight': depthwise,
      's.pointwise_weight': pointwise,
      's.bias': bias,
    }, x);
    const pair = predict(
      imageModel([5, 5, 3], [
        { type: 'depthwise_conv2d', name: 'd', ...window, useBias: false },
        { type: 'conv2d', name: 'p', filters: 4, kernelSize: 1, activation: 'tanh' },
      ]),
      { 'd.weight': depthwise, 'p.weight': pointwise, 'p.bias': bias },
      x,
    );
    expect(Array.from(separable)).toEqual(Array.from(pair));
  });

  it.each([
    ['valid, relu', { filters: 3, kernelSize: 3, activation: 'relu' }],
    ['multiplier 2, same, stride 2, no bias', { filters: 2, kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', useBias: false }],
  ])('agrees three ways: %s, full and partial batch', async (_name, conv) => {
    for (const rows of [5, 3]) await expectThreeWayAgreement(classifier([5, 5, 2], [{ type: 'separable_conv2d', name: 's', ...conv }]), randomMatrix(rows, 50, 110 + rows, 1.5), randomClasses(rows, 3, 120 + rows));
  });
});

describe('builders', () => {
  it('conv2d, conv1d, depthwiseConv2d and separableConv2d build the spec layers with Keras defaults', async () => {
    const { conv1d, conv2d, depthwiseConv2d, flatten, input, losses, separableConv2d, sequential } = await import('../../compiler/index.ts');
    const image = sequential({
      input: input([6, 6, 2]),
      layers: [conv2d(4, { kernelSize: 3, padding: 'same', activation: 'relu' }), depthwiseConv2d({ kernelSize: 2, depthMultiplier: 2 }), separableConv2d(3, { kernelSize: 3 }), flatten()],
      loss: losses.mse(),
    });
    expect(image.layers.map((l) => l.type)).toEqual(['conv2d', 'depthwise_conv2d', 'separable_conv2d', 'flatten']);
    expect(Object.entries(interpret(image).getWeights()).map(([name, t]) => [name, t.shape])).toEqual([
      ['conv2d.weight', [4, 2, 3, 3]],
      ['conv2d.bias', [4]],
      ['depthwise_conv2d.weight', [8, 1, 2, 2]],
      ['depthwise_conv2d.bias', [8]],
      ['separable_conv2d.depthwise_weight', [8, 1, 3, 3]],
      ['separable_conv2d.pointwise_weight', [3, 8, 1, 1]],
      ['separable_conv2d.bias', [3]],
    ]);
    const sequence = sequential({ input: input([10, 3]), layers: [conv1d(5, { kernelSize: 4, strides: 2 }), flatten()], loss: losses.mse() });
    expect(interpret(sequence).getWeights()['conv1d.weight']!.shape).toEqual([5, 3, 4]);
  });
});
