// The TensorFlow.js models the interop tests build: a Sequential model with Dense, BatchNormalization
// and Dropout, and a functional model with two inputs, merges and a shared layer. Their batch
// normalization statistics and biases are set away from their initial values, so a weight mapped
// to the wrong parameter shows in the predictions.
import * as tf from '@tensorflow/tfjs';
import type { KerasArtifacts } from '../../compiler/interop/import.ts';
import { expect } from 'vitest';
import { compile, exportTfjs, interpret } from '../../compiler/index.ts';
import { Rng } from '../../runtime/prng.ts';
import { maxRelativeError } from '../support/compare.ts';

export function randomRows(rows: number, width: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: width }, () => rng.uniform() * 4 - 2));
}

/** Replaces every weight with seeded values (variances positive). */
function scramble(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const layer of model.layers) {
    const values = layer.weights.map((w) => {
      const positive = w.originalName.endsWith('variance');
      const size = w.shape.reduce((a: number, d) => a * (d ?? 1), 1);
      return tf.tensor(Array.from({ length: size }, () => (positive ? 0.5 + rng.uniform() : rng.uniform() - 0.5)), w.shape as number[]);
    });
    if (values.length > 0) layer.setWeights(values);
  }
}

export function sequentialModel(): tf.LayersModel {
  const model = tf.sequential({ name: 'classifier' });
  model.add(tf.layers.dense({ units: 8, activation: 'relu', inputShape: [5], name: 'hidden' }));
  model.add(tf.layers.batchNormalization({ name: 'norm', momentum: 0.9, epsilon: 1e-3 }));
  model.add(tf.layers.dropout({ rate: 0.25, name: 'drop' }));
  model.add(tf.layers.dense({ units: 3, activation: 'softmax', name: 'out' }));
  scramble(model, 1);
  return model;
}

export function functionalModel(): tf.LayersModel {
  const a = tf.input({ shape: [4], name: 'a' });
  const b = tf.input({ shape: [6], name: 'b' });
  const h = tf.layers.dense({ units: 8, activation: 'tanh', name: 'ha' }).apply(a) as tf.SymbolicTensor;
  const g = tf.layers.dense({ units: 8, activation: 'elu', name: 'hb' }).apply(b) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'sum' }).apply([h, g]) as tf.SymbolicTensor;
  const shared = tf.layers.dense({ units: 4, name: 'shared' });
  const u = shared.apply(a) as tf.SymbolicTensor;
  const t = tf.layers.dense({ units: 4, useBias: false, name: 'tb' }).apply(b) as tf.SymbolicTensor;
  const v = shared.apply(t) as tf.SymbolicTensor;
  const product = tf.layers.multiply({ name: 'product' }).apply([u, v]) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate({ name: 'joined' }).apply([sum, product]) as tf.SymbolicTensor;
  const normed = tf.layers.layerNormalization({ name: 'ln' }).apply(joined) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, name: 'out' }).apply(normed) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [a, b], outputs: out, name: 'twoinputs' });
  scramble(model, 2);
  return model;
}

/** What `model.save()` hands its IO handler (with `includeOptimizer`, the training config and optimizer weights too). */
export async function saveToMemory(model: tf.LayersModel, options: { readonly includeOptimizer?: boolean } = {}): Promise<KerasArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    options,
  );
  return saved as KerasArtifacts;
}

/** The model.json and weights.bin that `model.save('file://dir')` writes (tfjs-node's file handler). */
export function modelFiles(artifacts: KerasArtifacts): { modelJson: string; weights: Uint8Array } {
  const modelJson = JSON.stringify({
    modelTopology: artifacts.modelTopology,
    format: 'layers-model',
    generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
    convertedBy: null,
    weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs }],
  });
  return { modelJson, weights: new Uint8Array(artifacts.weightData as ArrayBuffer) };
}

/** Seeded weights of scale 1 for every layer: every bias non-zero, so a weight mapped to the wrong block or direction shows. */
export function seedWeights(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const layer of model.layers) {
    const values = layer.weights.map((w) => tf.tensor(Array.from({ length: w.shape.reduce((a: number, d) => a * (d ?? 1), 1) }, () => rng.uniform() - 0.5), w.shape as number[]));
    if (values.length > 0) layer.setWeights(values);
  }
}

/**
 * An imported model predicts `expected` (tfjs's) interpreted and compiled within float32 rounding,
 * trains away from it, and exported back to tfjs predicts as the trained trainer does.
 */
export async function expectImportTrainExport(
  imported: { readonly spec: unknown; readonly weights: ReadonlyMap<string, unknown> | null },
  x: number[][][],
  expected: Float32Array,
  tfjsPredict: (m: tf.LayersModel) => Float32Array,
): Promise<void> {
  const FLOAT32 = 1e-5;
  const weights = Object.fromEntries(imported.weights!) as never;
  const reference = interpret(imported.spec);
  reference.setWeights(weights);
  expect(maxRelativeError(reference.predict(x).data, expected)).toBeLessThan(FLOAT32);

  const trainer = await compile(imported.spec);
  trainer.setWeights(weights);
  const before = trainer.predict(x).data;
  expect(maxRelativeError(before, expected)).toBeLessThan(FLOAT32);
  const y = randomRows(x.length, 2, 4);
  for (let k = 0; k < 5; k++) trainer.trainStep(x, y);
  const trained = trainer.predict(x).data;
  expect(maxRelativeError(trained, before)).toBeGreaterThan(1e-4);

  const exported = exportTfjs(imported.spec as never, trainer.getWeights());
  const reloaded = await tf.loadLayersModel(tf.io.fromMemory(exported.artifacts));
  expect(maxRelativeError(tfjsPredict(reloaded), trained)).toBeLessThan(FLOAT32);
}
