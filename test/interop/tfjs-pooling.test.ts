// The pooling and padding layers against TensorFlow.js itself: a tfjs image model (zero padding,
// max and 'same' average pooling — whose border windows divide by their cells inside the image —,
// per-channel batch normalization, global pooling) is imported, predicts as tfjs does
// (interpreter and compiled), and exported back, tfjs then predicting as nabla does.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile, exportTfjs, importKerasModel, interpret } from '../../compiler/index.ts';
import { randomRows, saveToMemory } from './tfjs-models.ts';
import { maxRelativeError } from '../support/compare.ts';

const FLOAT32 = 1e-5;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Image [5, 6, 3] → pad → max pool → 'same' average pool 3/2 → batch norm → global average and global max joined. */
function imageModel(): tf.LayersModel {
  const x = tf.input({ shape: [5, 6, 3], name: 'x' });
  let h = tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 2]] }).apply(x) as tf.SymbolicTensor;
  h = tf.layers.maxPooling2d({ poolSize: [2, 2], strides: [1, 1], padding: 'valid' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.averagePooling2d({ poolSize: [3, 3], strides: [2, 2], padding: 'same' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ movingMeanInitializer: 'randomNormal', movingVarianceInitializer: 'ones' }).apply(h) as tf.SymbolicTensor;
  const avg = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const max = tf.layers.globalMaxPooling2d({}).apply(h) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate().apply([avg, max]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, name: 'out' }).apply(joined) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: out });
}

/** Sequence [7, 4] → max pool 1-D 'same' → average pool 1-D → global average. */
function sequenceModel(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.maxPooling1d({ poolSize: 3, strides: 2, padding: 'same', inputShape: [7, 4] }),
      tf.layers.averagePooling1d({ poolSize: 2, strides: 1, padding: 'valid' }),
      tf.layers.globalAveragePooling1d({}),
      tf.layers.dense({ units: 2 }),
    ],
  });
}

describe.each([
  { name: 'image layers', build: imageModel, sample: [5, 6, 3] },
  { name: '1-D pooling', build: sequenceModel, sample: [7, 4] },
])('TensorFlow.js $name', ({ build, sample }) => {
  it('import, predict as tfjs does (interpreted and compiled), export, and tfjs predicts as nabla does', async () => {
    const model = build();
    const rows = 6;
    const width = sample.reduce((a, d) => a * d, 1);
    const flat = randomRows(rows, width, 5);
    const tfjsPredict = (m: tf.LayersModel): Float32Array => (m.predict(tf.tensor(flat.flat(), [rows, ...sample])) as tf.Tensor).dataSync() as Float32Array;
    const expected = tfjsPredict(model);
    const { spec, weights } = importKerasModel(await saveToMemory(model));
    const feed = { shape: [rows, ...sample], data: Float32Array.from(flat.flat()) };

    const reference = interpret(spec);
    reference.setWeights(Object.fromEntries(weights!));
    expect(maxRelativeError(reference.predict(feed).data, expected)).toBeLessThan(FLOAT32);
    const trainer = await compile(spec);
    trainer.setWeights(Object.fromEntries(weights!));
    expect(maxRelativeError(trainer.predict(feed).data, expected)).toBeLessThan(FLOAT32);

    const exported = exportTfjs(spec, trainer.getWeights());
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(exported.artifacts));
    expect(maxRelativeError(tfjsPredict(reloaded), expected)).toBeLessThan(FLOAT32);
  });
});
