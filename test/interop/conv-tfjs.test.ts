// TensorFlow.js → nabla → TensorFlow.js for convolutional models: a tfjs model with Conv2D ('same'
// with stride 2 and 'valid' with dilation), DepthwiseConv2D, SeparableConv2D, MaxPooling2D,
// Flatten and Dense is imported (Keras kernels [kh, kw, in, out] permuted into PyTorch's layout),
// predicts as tfjs does (interpreted and compiled), and exported back predicts as nabla does.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile, exportTfjs, importKerasModel, interpret } from '../../compiler/index.ts';
import { Rng } from '../../runtime/prng.ts';
import { saveToMemory } from './tfjs-models.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function convModel(): tf.LayersModel {
  const model = tf.sequential({ name: 'convs' });
  model.add(tf.layers.conv2d({ inputShape: [9, 8, 2], filters: 4, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'relu', name: 'c1' }));
  model.add(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'dw' }));
  model.add(tf.layers.separableConv2d({ filters: 3, kernelSize: 2, padding: 'same', activation: 'tanh', name: 'sep' }));
  model.add(tf.layers.conv2d({ filters: 5, kernelSize: 2, dilationRate: 2, name: 'c2' }));
  model.add(tf.layers.flatten({ name: 'flat' }));
  model.add(tf.layers.dense({ units: 3, name: 'out' }));
  const rng = new Rng(3);
  for (const layer of model.layers) {
    if (layer.weights.length) layer.setWeights(layer.weights.map((w) => tf.tensor(Array.from({ length: w.shape.reduce((a: number, d) => a * (d ?? 1), 1) }, () => rng.uniform() - 0.5), w.shape as number[])));
  }
  return model;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return worst;
};

describe('convolutional models between TensorFlow.js and nabla', () => {
  it('import, predict as tfjs (interpreted and compiled), export, and tfjs predicts as nabla', async () => {
    const model = convModel();
    const rng = new Rng(4);
    const x = { shape: [4, 9, 8, 2], data: Float32Array.from({ length: 4 * 9 * 8 * 2 }, () => rng.uniform() * 2 - 1) };
    const expected = (model.predict(tf.tensor4d(x.data, [4, 9, 8, 2])) as tf.Tensor).dataSync();

    const { spec, weights } = importKerasModel(await saveToMemory(model), { loss: { type: 'mse' } });
    expect(weights!.get('c1.weight')!.shape).toEqual([4, 2, 3, 2]);
    const reference = interpret(spec);
    reference.setWeights(Object.fromEntries(weights!));
    expect(maxDiff(reference.predict(x).data, expected)).toBeLessThan(1e-5);
    const trainer = await compile(spec);
    trainer.setWeights(Object.fromEntries(weights!));
    expect(maxDiff(trainer.predict(x).data, expected)).toBeLessThan(1e-5);

    const back = await tf.loadLayersModel(tf.io.fromMemory(exportTfjs(spec, reference.getWeights()).artifacts));
    expect(maxDiff((back.predict(tf.tensor4d(x.data, [4, 9, 8, 2])) as tf.Tensor).dataSync(), reference.predict(x).data)).toBeLessThan(1e-5);
  });
});
