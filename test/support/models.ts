// Small models that between them use every op, activation, loss and initializer of the vocabulary.
import type { ModelSpecInput } from '../../compiler/model/spec.ts';
import { oneHot, randomBits, randomClasses, randomMatrix } from './data.ts';

export interface Case {
  readonly name: string;
  readonly spec: ModelSpecInput;
  /** Labels for `rows` rows. */
  readonly labels: (rows: number, seed: number) => number[] | number[][];
}

export const SMALL_MODELS: readonly Case[] = [
  {
    name: 'mse · sigmoid → tanh → linear, 3 outputs',
    spec: {
      input: { shape: [4] },
      layers: [
        { type: 'dense', units: 5, activation: 'sigmoid' },
        { type: 'dense', units: 4, activation: 'tanh' },
        { type: 'dense', units: 3 },
      ],
      loss: { type: 'mse' },
      batchSize: 8,
      seed: 1,
    },
    labels: (rows, seed) => randomMatrix(rows, 3, seed + 7),
  },
  {
    name: 'bce on sigmoid · relu hidden, he_normal',
    spec: {
      input: { shape: [3] },
      layers: [
        { type: 'dense', units: 6, activation: 'relu', kernelInitializer: 'he_normal', biasInitializer: { type: 'constant', value: 0.1 } },
        { type: 'dense', units: 2, activation: 'sigmoid' },
      ],
      loss: { type: 'binary_crossentropy' },
      batchSize: 6,
      seed: 2,
    },
    labels: (rows, seed) => randomBits(rows, 2, seed),
  },
  {
    name: 'bce from logits · tanh, no bias, weight 0.3',
    spec: {
      input: { shape: [5] },
      layers: [
        { type: 'dense', units: 4, activation: 'tanh', useBias: false },
        { type: 'dense', units: 1, kernelInitializer: 'glorot_uniform' },
      ],
      loss: { type: 'binary_crossentropy', fromLogits: true, weight: 0.3 },
      batchSize: 7,
      seed: 3,
    },
    labels: (rows, seed) => randomBits(rows, 1, seed),
  },
  {
    name: 'softmax cross-entropy on softmax output · relu',
    spec: {
      input: { shape: [4] },
      layers: [
        { type: 'dense', units: 8, activation: 'relu', biasInitializer: 'ones' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: { type: 'sparse_categorical_crossentropy' },
      batchSize: 8,
      seed: 4,
    },
    labels: (rows, seed) => randomClasses(rows, 3, seed),
  },
  {
    name: 'softmax cross-entropy from logits · deep mixed, weight 2',
    spec: {
      input: { shape: [6] },
      layers: [
        { type: 'dense', units: 7, activation: 'relu', kernelInitializer: 'he_normal' },
        { type: 'dense', units: 5, activation: 'tanh' },
        { type: 'dense', units: 5, activation: 'sigmoid' },
        { type: 'dense', units: 4, useBias: false },
      ],
      loss: { type: 'sparse_categorical_crossentropy', fromLogits: true, weight: 2 },
      batchSize: 9,
      seed: 5,
    },
    labels: (rows, seed) => randomClasses(rows, 4, seed),
  },
  {
    name: 'mse weight 0.5 · single linear layer, zeros init',
    spec: {
      input: { shape: [3] },
      layers: [{ type: 'dense', units: 2, kernelInitializer: 'zeros', biasInitializer: { type: 'constant', value: -0.2 } }],
      loss: { type: 'mse', weight: 0.5 },
      batchSize: 4,
      seed: 6,
    },
    labels: (rows, seed) => randomMatrix(rows, 2, seed),
  },
  {
    name: 'mse · leaky_relu(0.2) → elu(0.5) → selu → softplus',
    spec: {
      input: { shape: [4] },
      layers: [
        { type: 'dense', units: 5, activation: { type: 'leaky_relu', alpha: 0.2 } },
        { type: 'dense', units: 5, activation: { type: 'elu', alpha: 0.5 } },
        { type: 'dense', units: 4, activation: 'selu', kernelInitializer: 'lecun_normal' },
        { type: 'dense', units: 2, activation: 'softplus' },
      ],
      loss: { type: 'mse' },
      batchSize: 8,
      seed: 7,
    },
    labels: (rows, seed) => randomMatrix(rows, 2, seed),
  },
  {
    name: 'softmax layer · gelu → gelu(tanh) → swish(1.5) → silu, activation layers',
    spec: {
      input: { shape: [3] },
      layers: [
        { type: 'dense', units: 5, activation: 'gelu' },
        { type: 'dense', units: 5, activation: { type: 'gelu', approximate: true } },
        { type: 'dense', units: 4 },
        { type: 'activation', activation: { type: 'swish', beta: 1.5 } },
        { type: 'dense', units: 4, activation: 'silu' },
        { type: 'dense', units: 3 },
        { type: 'activation', name: 'probabilities', activation: 'softmax' },
      ],
      loss: { type: 'sparse_categorical_crossentropy' },
      batchSize: 7,
      seed: 8,
    },
    labels: (rows, seed) => randomClasses(rows, 3, seed),
  },
  {
    name: 'mae, sum reduction · tanh → linear, 2 outputs',
    spec: {
      input: { shape: [3] },
      layers: [
        { type: 'dense', units: 4, activation: 'tanh' },
        { type: 'dense', units: 2 },
      ],
      loss: { type: 'mae', reduction: 'sum' },
      batchSize: 8,
      seed: 9,
    },
    labels: (rows, seed) => randomMatrix(rows, 2, seed, 3),
  },
  {
    name: 'huber(δ 0.5), weight 2 · elu → linear',
    spec: {
      input: { shape: [3] },
      layers: [
        { type: 'dense', units: 4, activation: 'elu' },
        { type: 'dense', units: 3 },
      ],
      loss: { type: 'huber', delta: 0.5, weight: 2 },
      batchSize: 8,
      seed: 10,
    },
    // Targets spread over ±2, so some residuals fall on each side of δ.
    labels: (rows, seed) => randomMatrix(rows, 3, seed, 2),
  },
  {
    name: 'bce on softmax probabilities (clipped, not from logits)',
    spec: {
      input: { shape: [3] },
      layers: [
        { type: 'dense', units: 4, activation: 'relu', biasInitializer: { type: 'constant', value: 0.1 } },
        { type: 'dense', units: 2, activation: 'softmax' },
      ],
      loss: { type: 'binary_crossentropy' },
      batchSize: 8,
      seed: 11,
    },
    labels: (rows, seed) => randomBits(rows, 2, seed),
  },
  {
    name: 'categorical cross-entropy, one-hot, on softmax output, sum reduction',
    spec: {
      input: { shape: [4] },
      layers: [
        { type: 'dense', units: 5, activation: 'gelu' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: { type: 'categorical_crossentropy', reduction: 'sum' },
      batchSize: 8,
      seed: 12,
    },
    labels: (rows, seed) => oneHot(randomClasses(rows, 3, seed), 3),
  },
  {
    // The loss is the sum itself: the autodiff seed 1 reaches the sum's vjp (a reshape kernel)
    // as a bare constant, read through its static data.
    name: 'sparse softmax cross-entropy, sum reduction, no hidden layer',
    spec: {
      input: { shape: [3] },
      layers: [{ type: 'dense', units: 4, activation: 'softmax' }],
      loss: { type: 'sparse_categorical_crossentropy', reduction: 'sum' },
      batchSize: 8,
      seed: 16,
    },
    labels: (rows, seed) => randomClasses(rows, 4, seed),
  },
  {
    name: 'softmax cross-entropy from logits, one-hot',
    spec: {
      input: { shape: [4] },
      layers: [
        { type: 'dense', units: 5, activation: 'swish' },
        { type: 'dense', units: 3 },
      ],
      loss: { type: 'categorical_crossentropy', fromLogits: true },
      batchSize: 8,
      seed: 13,
    },
    labels: (rows, seed) => oneHot(randomClasses(rows, 3, seed), 3),
  },
  {
    name: 'categorical cross-entropy on sigmoid outputs (row-normalised, clipped)',
    spec: {
      input: { shape: [4] },
      layers: [
        { type: 'dense', units: 5, activation: 'tanh' },
        { type: 'dense', units: 3, activation: 'sigmoid' },
      ],
      loss: { type: 'categorical_crossentropy' },
      batchSize: 8,
      seed: 14,
    },
    labels: (rows, seed) => oneHot(randomClasses(rows, 3, seed), 3),
  },
  {
    name: 'layer normalization (with and without γ/β) · relu → tanh, softmax',
    spec: {
      input: { shape: [4] },
      layers: [
        { type: 'dense', units: 6, activation: 'relu' },
        { type: 'layer_normalization', name: 'norm' },
        { type: 'dense', units: 5, activation: 'tanh' },
        { type: 'layer_normalization', name: 'bare', center: false, scale: false, epsilon: 1e-5 },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: { type: 'sparse_categorical_crossentropy' },
      batchSize: 8,
      seed: 15,
    },
    labels: (rows, seed) => randomClasses(rows, 3, seed),
  },
];
