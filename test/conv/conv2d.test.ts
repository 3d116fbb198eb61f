// conv2d: a hand-computed 3×3 example in PyTorch's kernel layout (interpreter and compiled), the
// output shapes of each padding, stride and dilation, and small conv models checked three ways
// (numerical, float64 interpreter, compiled float32), full and partial batch, and trained.
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.ts';
import { interpret } from '../../compiler/interpret/interpreter.ts';
import { parseSpec, type SequentialSpec } from '../../compiler/model/spec.ts';
import '../fixtures/image_layers.ts';
import { randomClasses, randomMatrix } from '../support/data.ts';
import { expectThreeWayAgreement } from '../support/three-way.ts';

/** A model reading [h·w·c] features as an image, `layers` on it, then a dense head of `classes`. */
function imageModel(image: readonly number[], layers: readonly Record<string, unknown>[], classes = 3, batchSize = 6): Record<string, unknown> {
  return {
    name: 'conv',
    input: { shape: [image.reduce((a, b) => a * b, 1)] },
    layers: [{ type: 'to_image', shape: image }, ...layers, { type: 'to_rows' }, { type: 'dense', name: 'head', units: classes, activation: 'softmax' }],
    loss: { type: 'sparse_categorical_crossentropy' },
    batchSize,
    seed: 5,
  };
}

describe('conv2d', () => {
  // x = [[1,2,3],[4,5,6],[7,8,9]], one channel; filter 0 the Laplacian, filter 1 the ramp
  // [[1,2,3],[4,5,6],[7,8,9]] (PyTorch weight [2, 1, 3, 3]), padding 'same' (one zero all round),
  // bias [0.5, -1]. Cross-correlation, as PyTorch and Keras compute it: out(i,j) = Σ w(a,b)·x(i+a−1, j+b−1).
  const laplacian = [0, 1, 0, 1, -4, 1, 0, 1, 0];
  const ramp = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const spec = {
    name: 'hand',
    input: { shape: [9] },
    layers: [{ type: 'to_image', shape: [3, 3, 1] }, { type: 'conv2d', name: 'conv', filters: 2, kernelSize: 3, padding: 'same' }, { type: 'to_rows' }],
    loss: { type: 'mse' },
    batchSize: 2,
  };
  const weights = { 'conv.weight': Float64Array.from([...laplacian, ...ramp]), 'conv.bias': Float64Array.from([0.5, -1]) };
  // Worked by hand: e.g. ramp at (0,1) = 4·1 + 5·2 + 6·3 + 7·4 + 8·5 + 9·6 = 154, at (1,0) = 2·1 + 3·2 + 5·4 + 6·5 + 8·7 + 9·8 = 186.
  const laplacianOut = [2, 1, -4, -3, 0, -7, -16, -11, -22];
  const rampOut = [94, 154, 106, 186, 285, 186, 106, 154, 94];
  const expected = laplacianOut.flatMap((v, p) => [v + 0.5, rampOut[p]! - 1]);

  it('computes a hand-worked 3×3 example with PyTorch-layout weights [out, in, kh, kw], interpreted and compiled', async () => {
    const x = [[1, 2, 3, 4, 5, 6, 7, 8, 9]];
    const interpreter = interpret(spec);
    interpreter.setWeights(weights);
    expect(Array.from(interpreter.predict(x).data)).toEqual(expected);
    const trainer = await compile(spec);
    trainer.setWeights(weights);
    expect(Array.from(trainer.predict(x).data)).toEqual(expected);
    expect(trainer.getWeights()['conv.weight']!.shape).toEqual([2, 1, 3, 3]);
  });

  it('has the output shapes of Keras for each padding, stride and dilation, and fans of receptive field × channels', () => {
    const shapeOf = (image: number[], conv: Record<string, unknown>): readonly number[] => interpret(imageModel(image, [{ type: 'conv2d', name: 'c', ...conv }])).getWeights()['c.weight']!.shape;
    expect(shapeOf([7, 6, 2], { filters: 4, kernelSize: [3, 2] })).toEqual([4, 2, 3, 2]);
    const parsed = (image: number[], conv: Record<string, unknown>): unknown => {
      const spec = parseSpec(imageModel(image, [{ type: 'conv2d', name: 'c', ...conv }])) as SequentialSpec;
      return spec.layers[1];
    };
    expect(parsed([5, 5, 1], { filters: 1, kernelSize: 3 })).toMatchObject({ strides: 1, padding: 'valid', dilationRate: 1, useBias: true, kernelInitializer: { type: 'glorot_uniform' } });
    // Output sizes through the dense head's weight: [classes, oh·ow·filters].
    const head = (image: number[], conv: Record<string, unknown>): number => interpret(imageModel(image, [{ type: 'conv2d', name: 'c', filters: 2, ...conv }])).getWeights()['head.weight']!.shape[1]! / 2;
    expect(head([7, 7, 1], { kernelSize: 3 })).toBe(5 * 5);
    expect(head([7, 7, 1], { kernelSize: 3, padding: 'same' })).toBe(7 * 7);
    expect(head([7, 7, 1], { kernelSize: 3, strides: 2 })).toBe(3 * 3);
    expect(head([7, 8, 1], { kernelSize: 3, strides: 2, padding: 'same' })).toBe(4 * 4);
    expect(head([7, 7, 1], { kernelSize: 3, dilationRate: 2 })).toBe(3 * 3);
    expect(head([6, 9, 1], { kernelSize: [2, 4], strides: [1, 3] })).toBe(5 * 2);
    // glorot_uniform with fans 3·3·2 = 18 in, 3·3·4 = 36 out: limit √(6/54).
    const w = interpret(imageModel([5, 5, 2], [{ type: 'conv2d', name: 'c', filters: 4, kernelSize: 3 }])).getWeights()['c.weight']!.data;
    const limit = Math.sqrt(6 / 54);
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(0.8 * limit);
  });

  it('refuses a kernel that does not fit and a kernelSize of the wrong length, naming the layer', () => {
    expect(() => parseSpec(imageModel([2, 2, 1], [{ type: 'conv2d', name: 'big', filters: 1, kernelSize: 3 }]))).toThrow(/layers\[1\]: conv2d: a kernel of 3 \(dilation 1\) does not fit in 2 .*\(layer 'big'\)/s);
    expect(() => parseSpec(imageModel([4, 4, 1], [{ type: 'conv2d', name: 'odd', filters: 1, kernelSize: [3, 3, 3] }]))).toThrow(/layers\[1\]\.kernelSize: expected a positive integer or a list of them/);
  });

  const cases: readonly [string, readonly number[], Record<string, unknown>][] = [
    ['valid, 3×3, two channels in', [5, 5, 2], { filters: 3, kernelSize: 3, activation: 'relu' }],
    ['same, stride 2, tanh', [5, 6, 2], { filters: 2, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }],
    ['dilation 2, 2×3 kernel, no bias', [6, 6, 1], { filters: 2, kernelSize: [2, 3], dilationRate: 2, useBias: false }],
    ['1×1 (the image is its own patch matrix)', [3, 3, 3], { filters: 2, kernelSize: 1 }],
  ];
  it.each(cases)('agrees three ways: %s, full and partial batch', async (_name, image, conv) => {
    const spec = imageModel(image, [{ type: 'conv2d', name: 'c', ...conv }]);
    const features = image.reduce((a, b) => a * b, 1);
    for (const rows of [6, 4]) await expectThreeWayAgreement(spec, randomMatrix(rows, features, 50 + rows, 1.5), randomClasses(rows, 3, 60 + rows));
  });

  it('trains two stacked convolutions: the compiled loss falls', async () => {
    const spec = imageModel([6, 6, 1], [
      { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' },
      { type: 'conv2d', filters: 4, kernelSize: 3, strides: 2, activation: 'relu' },
    ], 3, 8);
    const x = randomMatrix(8, 36, 3);
    const y = randomClasses(8, 3, 4);
    const trainer = await compile({ ...spec, optimizer: { type: 'adam', learningRate: 0.01 } });
    const first = trainer.evaluate(x, y).loss;
    for (let i = 0; i < 60; i++) trainer.trainStep(x, y);
    expect(trainer.evaluate(x, y).loss).toBeLessThan(first * 0.5);
  });
});
