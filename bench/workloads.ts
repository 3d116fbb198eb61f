// The benchmark's workloads, defined once for every system: the same layers, loss, batch and
// synthetic data (fixed seed), so each row of the table compares like with like.
import { Rng } from '../runtime/prng.ts';

export type Activation = 'relu' | 'tanh' | 'linear' | 'softmax';

/** A stage of a convolutional front: a square conv with relu, or a square max pool (stride = size, 'valid'). */
export type Stage =
  | { readonly kind: 'conv'; readonly filters: number; readonly kernel: number; readonly padding: 'same' | 'valid' }
  | { readonly kind: 'maxpool'; readonly size: number };

export interface Workload {
  readonly name: string;
  /** Features per sample (h·w·c for an image workload). */
  readonly inputs: number;
  /** Image workloads: each sample an [h, w, c] image (channels last), through `stages`, flattened into `layers`. */
  readonly image?: { readonly shape: readonly [number, number, number]; readonly stages: readonly Stage[] };
  /** Sequence workloads: each sample [steps, features] through an LSTM of `units` (PyTorch's gates i, f, g, o), its last h into `layers`. */
  readonly lstm?: { readonly steps: number; readonly features: number; readonly units: number };
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

const conv = (filters: number, kernel: number, padding: 'same' | 'valid'): Stage => ({ kind: 'conv', filters, kernel, padding });
const pool: Stage = { kind: 'maxpool', size: 2 };

/** A CNN: conv/pool stages over an [h, w, c] image, then relu dense layers and a softmax of the last width. */
const cnn = (name: string, shape: readonly [number, number, number], stages: readonly Stage[], widths: readonly number[], batch: number): Workload => ({
  name,
  inputs: shape[0] * shape[1] * shape[2],
  image: { shape, stages },
  layers: widths.map((units, i) => ({ units, activation: i === widths.length - 1 ? 'softmax' : 'relu' })),
  loss: 'sparse_categorical_crossentropy',
  batch,
  learningRate: 0.01,
});

const W1_WIDTHS = [784, 256, 128, 10];

/** W1 (784 → 256 → 128 → 10, relu, softmax) at any batch: the batch sweep's workloads. */
export const w1 = (batch: number): Workload => mlp(`W1/${batch}`, W1_WIDTHS, batch);

/** The batches of the W1 sweep: one row to past the L2-sized products. */
export const W1_SWEEP = [1, 8, 64, 256, 2048] as const;

export const WORKLOADS: readonly Workload[] = [
  w1(64),
  w1(256),
  mlp('W2', [64, 128, 64, 10], 32),
  {
    name: 'W3',
    inputs: 32,
    layers: [...Array.from({ length: 10 }, () => ({ units: 64, activation: 'tanh' as const })), { units: 1, activation: 'linear' as const }],
    loss: 'mse',
    batch: 128,
    learningRate: 0.01,
  },
  // LeNet-5 style on 28×28×1.
  cnn('W4', [28, 28, 1], [conv(6, 5, 'same'), pool, conv(16, 5, 'valid'), pool], [120, 84, 10], 64),
  // A small VGG-style block pair on 32×32×3.
  cnn('W5', [32, 32, 3], [conv(32, 3, 'same'), conv(32, 3, 'same'), pool, conv(64, 3, 'same'), conv(64, 3, 'same'), pool], [128, 10], 32),
  // An LSTM of 128 units over 32 steps of 32 features, regression on the last step.
  {
    name: 'W6',
    inputs: 32 * 32,
    lstm: { steps: 32, features: 32, units: 128 },
    layers: [{ units: 1, activation: 'linear' }],
    loss: 'mse',
    batch: 32,
    learningRate: 0.01,
  },
];

/** A workload of the table by name, or W1 at any batch (`W1/<batch>`). */
export function workloadNamed(name: string): Workload | undefined {
  const batch = /^W1\/(\d+)$/.exec(name)?.[1];
  return WORKLOADS.find((w) => w.name === name) ?? (batch ? w1(Number(batch)) : undefined);
}

/** A conv stage with its input and output geometry: [h, w, c] in, [oh, ow, filters] out. */
export interface ConvGeometry {
  readonly index: number;
  readonly kernel: number;
  readonly input: readonly [number, number, number];
  readonly output: readonly [number, number, number];
}

/** The conv stages of an image workload with their geometry, and the flattened width after the last stage. */
export function convGeometry(w: Workload): { readonly convs: readonly ConvGeometry[]; readonly flat: number } {
  if (w.lstm) return { convs: [], flat: w.lstm.units };
  if (!w.image) return { convs: [], flat: w.inputs };
  let [h, wd, c] = w.image.shape;
  const convs: ConvGeometry[] = [];
  for (const s of w.image.stages) {
    if (s.kind === 'conv') {
      const [oh, ow] = s.padding === 'same' ? [h, wd] : [h - s.kernel + 1, wd - s.kernel + 1];
      convs.push({ index: convs.length, kernel: s.kernel, input: [h, wd, c], output: [oh, ow, s.filters] });
      [h, wd, c] = [oh, ow, s.filters];
    } else {
      [h, wd] = [Math.floor(h / s.size), Math.floor(wd / s.size)];
    }
  }
  return { convs, flat: h * wd * c };
}

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
  const front: Record<string, unknown>[] = w.image
    ? [
        ...w.image.stages.map((s, i) =>
          s.kind === 'conv'
            ? { type: 'conv2d', name: `c${i}`, filters: s.filters, kernelSize: s.kernel, padding: s.padding, activation: 'relu' }
            : { type: 'max_pooling2d', name: `p${i}`, poolSize: s.size },
        ),
        { type: 'flatten', name: 'flat' },
      ]
    : [];
  if (w.lstm) front.push({ type: 'lstm', name: 'lstm', units: w.lstm.units });
  return {
    name: w.name.replace('/', '_'),
    input: { name: 'x', shape: w.image ? [...w.image.shape] : w.lstm ? [w.lstm.steps, w.lstm.features] : [w.inputs] },
    layers: [...front, ...w.layers.map((l, i) => ({ type: 'dense', name: `d${i}`, units: l.units, activation: l.activation }))],
    loss: { type: w.loss },
    optimizer: { type: 'sgd', learningRate: w.learningRate },
    batchSize: w.batch,
    seed: 1,
  };
}

/** FLOPs of one conv stage's product (forward; its input and weight gradients take as many each). */
export function convFlops(c: ConvGeometry, batch: number): number {
  return 2 * batch * c.output[0] * c.output[1] * c.output[2] * c.input[2] * c.kernel * c.kernel;
}

/** FLOPs of one training step's matrix products (forward, input gradient except the first layer's, weight gradient). */
export function stepGemmFlops(w: Workload): number {
  const { convs, flat } = convGeometry(w);
  let flops = convs.reduce((sum, c) => sum + convFlops(c, w.batch) * (c.index === 0 ? 2 : 3), 0);
  let width = flat;
  if (w.lstm) {
    // The input projection (no input gradient: it reads the data) and the recurrent products (none at the first step, h = 0).
    const { steps, features, units } = w.lstm;
    flops += 2 * 2 * w.batch * steps * features * 4 * units + 3 * 2 * w.batch * (steps - 1) * units * 4 * units;
    width = units;
  }
  w.layers.forEach((l, i) => {
    const one = 2 * w.batch * width * l.units;
    flops += one * (i === 0 && convs.length === 0 ? 2 : 3);
    width = l.units;
  });
  return flops;
}

/** The depth sweep's model: 32 → depth × Dense(64, tanh) → 1, MSE, SGD, batch 32. */
export function deepSpec(depth: number): unknown {
  return {
    name: `deep${depth}`,
    input: { name: 'x', shape: [32] },
    layers: [...Array.from({ length: depth }, (_, i) => ({ type: 'dense', name: `h${i}`, units: 64, activation: 'tanh' })), { type: 'dense', name: 'out', units: 1 }],
    loss: { type: 'mse' },
    optimizer: { type: 'sgd', learningRate: 0.01 },
    batchSize: 32,
    seed: 1,
  };
}
