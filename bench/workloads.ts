// The benchmark's workloads, defined once for every system: the same layers, loss, batch and
// synthetic data (fixed seed), so each row of the table compares like with like.
import { Rng } from '../runtime/prng.ts';

export type Activation = 'relu' | 'tanh' | 'linear' | 'softmax';

export interface Workload {
  readonly name: string;
  readonly inputs: number;
  readonly layers: readonly { readonly units: number; readonly activation: Activation }[];
  readonly loss: 'sparse_categorical_crossentropy' | 'mse';
  readonly batch: number;
  readonly learningRate: number;
}

const mlp = (name: string, widths: readonly number[], batch: number): Workload => ({
  name,
  inputs: widths[0]!,
  layers: widths.slice(1).map((units, i) => ({ units, activation: i === widths.length - 2 ? 'softmax' : 'relu' })),
  loss: 'sparse_categorical_crossentropy',
  batch,
  learningRate: 0.01,
});

export const WORKLOADS: readonly Workload[] = [
  mlp('W1/64', [784, 256, 128, 10], 64),
  mlp('W1/256', [784, 256, 128, 10], 256),
  mlp('W2', [64, 128, 64, 10], 32),
  {
    name: 'W3',
    inputs: 32,
    layers: [...Array.from({ length: 10 }, () => ({ units: 64, activation: 'tanh' as const })), { units: 1, activation: 'linear' as const }],
    loss: 'mse',
    batch: 128,
    learningRate: 0.01,
  },
];

export interface Batch {
  /** [batch, inputs], row-major. */
  readonly x: Float32Array;
  /** Class indices (cross-entropy) or [batch, outputs] targets (mse). */
  readonly labels: Int32Array | Float32Array;
  readonly outputs: number;
}

/** One batch of synthetic data from nabla's seeded PRNG: x ~ U(−1, 1), uniform classes or targets. */
export function syntheticBatch(w: Workload, seed = 7): Batch {
  const rng = new Rng(seed);
  const outputs = w.layers[w.layers.length - 1]!.units;
  const x = Float32Array.from({ length: w.batch * w.inputs }, () => 2 * rng.uniform() - 1);
  const labels =
    w.loss === 'mse'
      ? Float32Array.from({ length: w.batch * outputs }, () => 2 * rng.uniform() - 1)
      : Int32Array.from({ length: w.batch }, () => rng.below(outputs));
  return { x, labels, outputs };
}

/** The workload as a nabla model spec. */
export function nablaSpec(w: Workload): unknown {
  return {
    name: w.name.replace('/', '_'),
    input: { name: 'x', shape: [w.inputs] },
    layers: w.layers.map((l, i) => ({ type: 'dense', name: `d${i}`, units: l.units, activation: l.activation })),
    loss: { type: w.loss },
    optimizer: { type: 'sgd', learningRate: w.learningRate },
    batchSize: w.batch,
    seed: 1,
  };
}

/** FLOPs of one training step's matrix products (forward, input gradient except the first layer's, weight gradient). */
export function stepGemmFlops(w: Workload): number {
  let flops = 0;
  let width = w.inputs;
  w.layers.forEach((l, i) => {
    const one = 2 * w.batch * width * l.units;
    flops += one * (i === 0 ? 2 : 3);
    width = l.units;
  });
  return flops;
}
