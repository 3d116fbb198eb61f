// TensorFlow.js → nabla → TensorFlow.js for the recurrent layers: an LSTM, a GRU (tfjs's form,
// reset before the recurrent product, read backwards), a SimpleRNN and a RepeatVector built in tfjs
// with seeded weights are imported (kernels transposed, the GRU's blocks z, r, h reordered to
// r, z, n, Keras's one bias as PyTorch's two), predict as tfjs does, train, and load back into tfjs
// predicting as nabla does.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { importKerasModel } from '../../compiler/index.ts';
import { expectImportTrainExport, randomRows, saveToMemory, seedWeights } from './tfjs-models.ts';

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
  seedWeights(model, 8);
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
    // Training moves both of PyTorch's biases; tfjs gets their sum.
    await expectImportTrainExport({ spec, weights }, x, expected, tfjsPredict);
  });

  it('refuses what nabla cannot express, naming the field', async () => {
    const model = tf.sequential();
    model.add(tf.layers.lstm({ units: 2, dropout: 0.2, inputShape: [3, 2], name: 'noisy' }));
    expect(() => importKerasModel(JSON.parse(JSON.stringify({ modelTopology: model.toJSON(null, false) })) as never)).toThrow(/dropout is not supported in recurrent layers/);
  });
});
