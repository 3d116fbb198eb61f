// TensorFlow.js → nabla → TensorFlow.js for Bidirectional (the directions' weights under
// forward_<inner> and backward_<inner>, the backward ones nabla's `_reverse` parameters) and for an
// Embedding with mask_zero: tfjs's masked recurrent layers carry the state over padded steps as
// Keras's do, so the imported model predicts padded sequences as tfjs does.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile, exportTfjs, importKerasModel, interpret } from '../../compiler/index.ts';
import { maxRelativeError } from '../support/compare.ts';
import { expectImportTrainExport, randomRows, saveToMemory, seedWeights } from './tfjs-models.ts';

const FLOAT32 = 1e-5;
const STEPS = 5;
const FEATURES = 3;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('TensorFlow.js Bidirectional', () => {
  it('import, predict as tfjs does, train, export, and tfjs predicts as nabla does', async () => {
    // tfjs's gates default to hard_sigmoid, which nabla does not have; its GRU resets before the product.
    const model = tf.sequential({ name: 'bidirectional' });
    model.add(tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3, returnSequences: true, recurrentActivation: 'sigmoid' }) as tf.RNN, inputShape: [STEPS, FEATURES], name: 'both' }));
    model.add(tf.layers.bidirectional({ layer: tf.layers.gru({ units: 2, goBackwards: true, recurrentActivation: 'sigmoid' }) as tf.RNN, name: 'last' }));
    model.add(tf.layers.dense({ units: 2, name: 'out' }));
    seedWeights(model, 9);
    const x = randomRows(12, STEPS * FEATURES, 3).map((row) => Array.from({ length: STEPS }, (_, t) => row.slice(t * FEATURES, (t + 1) * FEATURES)));
    const tfjsPredict = (m: tf.LayersModel): Float32Array => (m.predict(tf.tensor3d(x)) as tf.Tensor).dataSync() as Float32Array;
    const expected = tfjsPredict(model);

    const { spec, weights } = importKerasModel(await saveToMemory(model), { loss: { type: 'mse' } });
    const layers = (spec as unknown as { layers: { type: string; layer?: { type: string; goBackwards: boolean } }[] }).layers;
    expect(layers.map((l) => l.type)).toEqual(['bidirectional', 'bidirectional', 'dense']);
    expect(layers[1]!.layer).toMatchObject({ type: 'gru', goBackwards: true, resetAfter: false });
    expect([...weights!.keys()].filter((k) => k.startsWith('both.')).sort()).toEqual(
      ['bias_hh_l0', 'bias_hh_l0_reverse', 'bias_ih_l0', 'bias_ih_l0_reverse', 'weight_hh_l0', 'weight_hh_l0_reverse', 'weight_ih_l0', 'weight_ih_l0_reverse'].map((s) => `both.${s}`),
    );
    await expectImportTrainExport({ spec, weights }, x, expected, tfjsPredict);
  });

  it('refuses other merge modes and wrapped layers, naming the field', async () => {
    const model = tf.sequential();
    model.add(tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 2 }) as tf.RNN, mergeMode: 'sum', inputShape: [3, 2], name: 'summed' }));
    expect(() => importKerasModel(JSON.parse(JSON.stringify({ modelTopology: model.toJSON(null, false) })) as never)).toThrow(/layer 'summed' \(Bidirectional\): merge_mode 'sum' is not supported/);
    const noisy = tf.sequential();
    noisy.add(tf.layers.bidirectional({ layer: tf.layers.gru({ units: 2, dropout: 0.5 }) as tf.RNN, inputShape: [3, 2], name: 'noisy' }));
    expect(() => importKerasModel(JSON.parse(JSON.stringify({ modelTopology: noisy.toJSON(null, false) })) as never)).toThrow(/layer 'noisy' \(Bidirectional\): layer \(GRU\): dropout is not supported/);
  });
});

describe('TensorFlow.js Embedding with mask_zero', () => {
  it('imports as maskZero: padded sequences predict as tfjs does (masked steps carry the state), and export keeps mask_zero', async () => {
    const model = tf.sequential({ name: 'masked' });
    model.add(tf.layers.embedding({ inputDim: 7, outputDim: 3, maskZero: true, inputLength: STEPS, name: 'emb' }));
    model.add(tf.layers.lstm({ units: 3, returnSequences: true, recurrentActivation: 'sigmoid', name: 'seq' }));
    model.add(tf.layers.bidirectional({ layer: tf.layers.gru({ units: 2, recurrentActivation: 'sigmoid' }) as tf.RNN, name: 'both' }));
    model.add(tf.layers.dense({ units: 2, name: 'out' }));
    seedWeights(model, 10);
    const ids = [
      [3, 1, 4, 1, 5],
      [2, 6, 3, 0, 0],
      [4, 0, 0, 0, 0],
      [0, 0, 1, 2, 3],
      [5, 0, 2, 0, 1],
    ];
    const tfjsPredict = (m: tf.LayersModel): Float32Array => (m.predict(tf.tensor2d(ids)) as tf.Tensor).dataSync() as Float32Array;
    const expected = tfjsPredict(model);

    const { spec, weights } = importKerasModel(await saveToMemory(model), { loss: { type: 'mse' } });
    const s = spec as unknown as { input: { dtype?: string }; layers: { type: string; maskZero?: boolean }[] };
    expect(s.input.dtype).toBe('int32');
    expect(s.layers[0]).toMatchObject({ type: 'embedding', maskZero: true });
    for (const m of [interpret(spec), await compile(spec)]) {
      m.setWeights(Object.fromEntries(weights!));
      expect(maxRelativeError(m.predict(ids).data, expected)).toBeLessThan(FLOAT32);
    }
    // Without the mask the padding would be read as tokens: the comparison above can fail.
    const unmasked = interpret({ ...s, layers: s.layers.map((l) => (l.type === 'embedding' ? { ...l, maskZero: false } : l)) });
    unmasked.setWeights(Object.fromEntries(weights!));
    expect(maxRelativeError(unmasked.predict(ids).data, expected)).toBeGreaterThan(1e-3);

    const exported = exportTfjs(spec, Object.fromEntries(weights!));
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(exported.artifacts));
    expect(maxRelativeError(tfjsPredict(reloaded), expected)).toBeLessThan(FLOAT32);
  });
});
