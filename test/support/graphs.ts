// Small graph-form models that between them use every merge layer, shared layers, several inputs
// and several outputs with loss weights, with batch normalization in the mix.
import type { GraphSpecInput } from '../../compiler/model/spec.ts';
import type { Feed } from '../../runtime/tensor.ts';
import { randomBits, randomClasses, randomMatrix } from './data.ts';

export interface GraphCase {
  readonly name: string;
  readonly spec: GraphSpecInput;
  /** Inputs for `rows` rows, by input name. */
  readonly inputs: (rows: number, seed: number) => Feed;
  /** Targets for `rows` rows, by output name. */
  readonly targets: (rows: number, seed: number) => Feed;
  /** The loss differentiates the training pass (batch statistics): compare numerical gradients of it. */
  readonly training?: boolean;
}

const one = (name: string, width: number) => (rows: number, seed: number) => ({ [name]: randomMatrix(rows, width, seed, 1.5) });

export const GRAPH_MODELS: readonly GraphCase[] = [
  {
    name: 'residual add · x + tanh(dense(x))',
    spec: {
      inputs: [{ name: 'x', shape: [4] }],
      nodes: [
        { type: 'dense', name: 'h', units: 4, activation: 'tanh', inputs: ['x'] },
        { type: 'add', name: 'skip', inputs: ['x', 'h'] },
        { type: 'dense', name: 'out', units: 3, inputs: ['skip'] },
      ],
      outputs: [{ node: 'out', loss: { type: 'mse' } }],
      batchSize: 8,
      seed: 11,
    },
    inputs: one('x', 4),
    targets: (rows, seed) => ({ out: randomMatrix(rows, 3, seed) }),
  },
  {
    name: 'concatenate · wide & deep inputs, bce on sigmoid',
    spec: {
      inputs: [
        { name: 'wide', shape: [3] },
        { name: 'deep', shape: [4] },
      ],
      nodes: [
        { type: 'dense', name: 'd1', units: 5, activation: 'relu', inputs: ['deep'] },
        { type: 'concatenate', name: 'joined', inputs: ['wide', 'd1', 'wide'] },
        { type: 'dense', name: 'out', units: 2, activation: 'sigmoid', inputs: ['joined'] },
      ],
      outputs: [{ node: 'out', loss: { type: 'binary_crossentropy' } }],
      batchSize: 7,
      seed: 12,
    },
    inputs: (rows, seed) => ({ wide: randomMatrix(rows, 3, seed, 1.5), deep: randomMatrix(rows, 4, seed + 1, 1.5) }),
    targets: (rows, seed) => ({ out: randomBits(rows, 2, seed) }),
  },
  {
    name: 'multiply · gated sigmoid ⊙ tanh, softmax cross-entropy',
    spec: {
      inputs: [{ name: 'x', shape: [4] }],
      nodes: [
        { type: 'dense', name: 'gate', units: 3, activation: 'sigmoid', inputs: ['x'] },
        { type: 'dense', name: 'value', units: 3, activation: 'tanh', inputs: ['x'] },
        { type: 'multiply', name: 'gated', inputs: ['gate', 'value'] },
        { type: 'dense', name: 'out', units: 3, activation: 'softmax', inputs: ['gated'] },
      ],
      outputs: [{ node: 'out', loss: { type: 'sparse_categorical_crossentropy' } }],
      batchSize: 8,
      seed: 13,
    },
    inputs: one('x', 4),
    targets: (rows, seed) => ({ out: randomClasses(rows, 3, seed) }),
  },
  {
    name: 'shared layer · one dense applied to two inputs (its gradients add up)',
    spec: {
      inputs: [
        { name: 'a', shape: [4] },
        { name: 'b', shape: [4] },
      ],
      nodes: [
        { type: 'dense', name: 'encoder', units: 3, activation: 'tanh', inputs: ['a'] },
        { type: 'apply', name: 'encoder_b', layer: 'encoder', inputs: ['b'] },
        { type: 'layer_normalization', name: 'norm', inputs: ['encoder'] },
        { type: 'apply', name: 'norm_b', layer: 'norm', inputs: ['encoder_b'] },
        { type: 'concatenate', name: 'both', inputs: ['norm', 'norm_b'] },
        { type: 'dense', name: 'out', units: 1, inputs: ['both'] },
      ],
      outputs: [{ node: 'out', loss: { type: 'mse' } }],
      batchSize: 6,
      seed: 14,
    },
    inputs: (rows, seed) => ({ a: randomMatrix(rows, 4, seed, 1.5), b: randomMatrix(rows, 4, seed + 1, 1.5) }),
    targets: (rows, seed) => ({ out: randomMatrix(rows, 1, seed) }),
  },
  {
    name: 'two outputs, loss weights 0.7 and 2 · batch norm on the shared trunk',
    spec: {
      inputs: [{ name: 'x', shape: [5] }],
      nodes: [
        { type: 'dense', name: 'trunk', units: 6, activation: 'relu', inputs: ['x'] },
        { type: 'batch_normalization', name: 'bn', inputs: ['trunk'] },
        { type: 'dense', name: 'classes', units: 3, activation: 'softmax', inputs: ['bn'] },
        { type: 'dense', name: 'value', units: 2, inputs: ['bn'] },
      ],
      outputs: [
        { node: 'classes', loss: { type: 'sparse_categorical_crossentropy' }, lossWeight: 0.7 },
        { node: 'value', name: 'aux', loss: { type: 'huber', delta: 0.5 }, lossWeight: 2 },
      ],
      batchSize: 8,
      seed: 15,
    },
    inputs: one('x', 5),
    targets: (rows, seed) => ({ classes: randomClasses(rows, 3, seed), aux: randomMatrix(rows, 2, seed + 1) }),
    training: true,
  },
];
