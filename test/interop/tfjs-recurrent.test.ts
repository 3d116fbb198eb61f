// TensorFlow.js → nabla → TensorFlow.js for the recurrent layers: an LSTM, a GRU (tfjs's form,
// reset before the recurrent product, read backwards), a SimpleRNN and a RepeatVector built in tfjs
// with seeded weights are imported (kernels transposed, the GRU's blocks z, r, h reordered to
// r, z, n, Keras's one bias as PyTorch's two), predict as tfjs does, train, and load back into tfjs
// predicting as nabla does.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile, exportTfjs, importKerasModel, interpret } from '../../compiler/index.ts';
import { Rng } from '../../runtime/prng.ts';
import { maxRelativeError } from '../support/compare.ts';
import { randomRows, saveToMemory } from './tfjs-models.ts';

const FLOAT32 = 1e-5;
const STEPS = 5;
const FEATURES = 3;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function recurrentModel(): tf.LayersModel {
  const model = tf.sequential({ name: 'recurrent' });
  model.add(tf.layers.lstm({ units: 4, returnSequences: true, recurrentActivation: 'sigmoid', inputShape: [STEPS, FEATURES], name: 'enc' }));
  model.add(tf.layers.gru({ units: 3, returnSequences: true, goBackwards: true, recurrentActivation: 'sigmoid', name: 'mid' }));
  model.add(tf.layers.simpleRNN({ units: 3, name: 'last' }));
  model.add(tf.layers.repeatVector({ n: 2, name: 'rep' }));
  model.add(tf.layers.lstm({ units: 2, useBias: false, recurrentActivation: 'sigmoid', name: 'dec' }));
  model.add(tf.layers.dense({ units: 2, name: 'out' }));
  // tfjs's gates default to hard_sigmoid, which nabla does not have; its GRU resets before the product (resetAfter false).
  // Seeded weights of scale 1: every bias non-zero, so a bias mapped to the wrong block shows.
  const rng = new Rng(8);
  for (const layer of model.layers) {
    const values = layer.weights.map((w) => tf.tensor(Array.from({ length: w.shape.reduce((a: number, d) => a * (d ?? 1), 1) }, () => rng.uniform() - 0.5), w.shape as number[]));
    if (values.length > 0) layer.setWeights(values);
  }
  return model;
}

describe('TensorFlow.js recurrent layers', () => {
  it('import, predict as tfjs does, train, export, and tfjs predicts as nabla does', async () => {
    const model = recurrentModel();
    const x = randomRows(12, STEPS * FEATURES, 3).map((row) => Array.from({ length: STEPS }, (_, t) => row.slice(t * FEATURES, (t + 1) * FEATURES)));
    const tfjsPredict = (m: tf.LayersModel): Float32Array => (m.predict(tf.tensor3d(x)) as tf.Tensor).dataSync() as Float32Array;
    const expected = tfjsPredict(model);

    const { spec, weights } = importKerasModel(await saveToMemory(model), { loss: { type: 'mse' } });
    const layers = (spec as unknown as { layers: { type: string; name: string }[] }).layers;
    expect(layers.map((l) => l.type)).toEqual(['lstm', 'gru', 'simple_rnn', 'repeat_vector', 'lstm', 'dense']);
    expect([...weights!.keys()].filter((k) => k.startsWith('mid.'))).toEqual(['mid.weight_ih_l0', 'mid.weight_hh_l0', 'mid.bias_ih_l0', 'mid.bias_hh_l0']);
    const reference = interpret(spec);
    reference.setWeights(Object.fromEntries(weights!));
    expect(maxRelativeError(reference.predict(x).data, expected)).toBeLessThan(FLOAT32);

    const trainer = await compile(spec);
    trainer.setWeights(Object.fromEntries(weights!));
    const imported = trainer.predict(x).data;
    expect(maxRelativeError(imported, expected)).toBeLessThan(FLOAT32);
    const y = randomRows(12, 2, 4);
    for (let k = 0; k < 5; k++) trainer.trainStep(x, y);
    const trained = trainer.predict(x).data;
    expect(maxRelativeError(trained, imported)).toBeGreaterThan(1e-4);

    // Training moves both of PyTorch's biases; tfjs gets their sum.
    const exported = exportTfjs(spec, trainer.getWeights());
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(exported.artifacts));
    expect(maxRelativeError(tfjsPredict(reloaded), trained)).toBeLessThan(FLOAT32);
  });

  it('refuses what nabla cannot express, naming the field', async () => {
    const model = tf.sequential();
    model.add(tf.layers.lstm({ units: 2, dropout: 0.2, inputShape: [3, 2], name: 'noisy' }));
    expect(() => importKerasModel(JSON.parse(JSON.stringify({ modelTopology: model.toJSON(null, false) })) as never)).toThrow(/dropout is not supported in recurrent layers/);
  });
});
