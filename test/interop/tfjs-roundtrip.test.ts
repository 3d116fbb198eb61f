// TensorFlow.js → nabla → TensorFlow.js: models built and saved with tfjs are imported, predict as
// tfjs does, train with nabla, and load back into tfjs predicting as nabla does.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile, exportTfjs, importKerasModel, interpret, parseSpec, type KerasArtifacts, type SequentialSpec } from '../../compiler/index.ts';
import { functionalModel, randomRows, saveToMemory, sequentialModel } from './tfjs-models.ts';
import { maxRelativeError } from '../support/compare.ts';

const FLOAT32 = 1e-5;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface Case {
  readonly name: string;
  readonly build: () => tf.LayersModel;
  /** Input rows by nabla input name, in tfjs's input order. */
  readonly inputs: readonly { readonly name: string; readonly width: number }[];
  readonly outputWidth: number;
}

const cases: readonly Case[] = [
  { name: 'Sequential: Dense, BatchNormalization, Dropout, softmax', build: sequentialModel, inputs: [{ name: 'x', width: 5 }], outputWidth: 3 },
  { name: 'functional: two inputs, add, multiply, concatenate, a shared Dense, LayerNormalization', build: functionalModel, inputs: [{ name: 'a', width: 4 }, { name: 'b', width: 6 }], outputWidth: 2 },
];

describe.each(cases)('$name', ({ build, inputs, outputWidth }) => {
  let model: tf.LayersModel;
  let artifacts: KerasArtifacts;
  const rows = 16;
  const x = inputs.map((input, k) => randomRows(rows, input.width, 10 + k));
  const feed = inputs.length === 1 ? x[0]! : Object.fromEntries(inputs.map((input, k) => [input.name, x[k]!]));
  const tfjsPredict = (m: tf.LayersModel): Float32Array => {
    const out = m.predict(x.map((rowsOf) => tf.tensor2d(rowsOf))) as tf.Tensor;
    return out.dataSync() as Float32Array;
  };

  beforeAll(async () => {
    model = build();
    artifacts = await saveToMemory(model);
  });

  it('imports, predicts as tfjs does, trains, exports, and tfjs loads it predicting as nabla does', async () => {
    const { spec, weights } = importKerasModel(artifacts);
    expect(weights).not.toBeNull();
    const expected = tfjsPredict(model);

    const reference = interpret(spec);
    reference.setWeights(Object.fromEntries(weights!));
    expect(maxRelativeError(reference.predict(feed).data, expected)).toBeLessThan(FLOAT32);

    const trainer = await compile(spec);
    trainer.setWeights(Object.fromEntries(weights!));
    const imported = trainer.predict(feed).data;
    expect(maxRelativeError(imported, expected)).toBeLessThan(FLOAT32);

    const y = randomRows(rows, outputWidth, 99).map((row) => {
      // One-hot targets for the softmax classifier, values for the regression.
      if (outputWidth !== 3) return row;
      const k = row.indexOf(Math.max(...row));
      return row.map((_, i) => (i === k ? 1 : 0));
    });
    const losses = Array.from({ length: 5 }, () => trainer.trainStep(feed, y));
    expect(losses.every(Number.isFinite)).toBe(true);
    const trained = trainer.predict(feed).data;
    expect(maxRelativeError(trained, imported)).toBeGreaterThan(1e-4); // training changed the model

    const exported = exportTfjs(spec, trainer.getWeights());
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(exported.artifacts));
    expect(maxRelativeError(tfjsPredict(reloaded), trained)).toBeLessThan(FLOAT32);
  });
});

describe('nabla → TensorFlow.js, every activation tfjs can name', () => {
  const activations = ['linear', 'relu', 'sigmoid', 'tanh', 'selu', 'softplus', 'elu', 'swish', 'silu', 'gelu'];
  const spec = {
    name: 'activations',
    input: { shape: [4] },
    layers: [
      ...activations.map((activation) => ({ type: 'dense', units: 4, activation })),
      { type: 'activation', activation: 'tanh' },
      { type: 'layer_normalization', center: false },
      { type: 'batch_normalization', scale: false },
      { type: 'dense', units: 3, activation: 'softmax', useBias: false },
    ],
    loss: { type: 'categorical_crossentropy' },
  };

  it('loads in tfjs and predicts as nabla does; imported back, it is the same spec', async () => {
    const reference = interpret(spec);
    const x = randomRows(8, 4, 5);
    const { artifacts } = exportTfjs(spec, reference.getWeights());
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const predicted = (model.predict(tf.tensor2d(x)) as tf.Tensor).dataSync();
    expect(maxRelativeError(predicted, reference.predict(x).data)).toBeLessThan(FLOAT32);

    const back = importKerasModel(await saveToMemory(model), { loss: { type: 'categorical_crossentropy' } });
    // silu goes out as tfjs's swish; tfjs saves glorot_uniform as the variance_scaling it is.
    const silu = (l: { activation?: unknown }) => (l.activation === 'silu' ? { ...l, activation: 'swish' } : l);
    const layersOf = (s: unknown) => (parseSpec(s) as SequentialSpec).layers;
    const glorot = { type: 'variance_scaling', scale: 1, mode: 'fan_avg', distribution: 'uniform' };
    expect(layersOf(back.spec)).toEqual(layersOf({ ...spec, layers: spec.layers.map(silu) }).map((l) => (l['type'] === 'dense' ? { ...l, kernelInitializer: glorot } : l)));
  });
});
