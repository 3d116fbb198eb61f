// W7: the 2-block causal transformer of examples/words (27 token ids, context 16, width 64, 4 heads,
// MLP 128, pre-norm, exact gelu; layer norm and a softmax over 27 at every position, the loss the
// mean over the 32·16 positions), batch 32, SGD 0.01, on every system: nabla's compiled trainer
// (its own spec), TensorFlow.js (wasm, cpu) and jax-js written as their users write a transformer
// step. The same synthetic ids and next-token labels (seeded) for all; tfjs and jax-js take the ids
// one-hot (a [32·16, 27] product with the embedding table) where nabla gathers rows.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { jit, nn, numpy as np, random, tree, valueAndGrad } from '@jax-js/jax';
import { compileToWasm } from '../compiler/compile.ts';
import { readManifest } from '../runtime/manifest.ts';
import { Rng } from '../runtime/prng.ts';
import { initJax } from './jax.ts';
import { relaxedBuild, type StepExports } from './nabla.ts';
import { msPerCall } from './timing.ts';
import { useTfjsBackend, type TfjsBackend } from './tfjs.ts';

export const W7 = { name: 'W7', batch: 32, context: 16, vocabulary: 27, width: 64, heads: 4, mlp: 128, blocks: 2, learningRate: 0.01 } as const;
const { batch: B, context: T, vocabulary: V, width: E, heads: H, mlp: F, blocks: L } = W7;
const D = E / H;
const EPS = 1e-5;

/** The examples/words model at batch 32 with SGD, as the other workloads train. */
export function w7Spec(): Record<string, unknown> {
  const spec = JSON.parse(readFileSync(new URL('../examples/words/model.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  return { ...spec, name: 'W7', batchSize: B, optimizer: { type: 'sgd', learningRate: W7.learningRate } };
}

/** Seeded ids [B, T] and labels [B, T] (a next id at every position). */
export function w7Batch(): { ids: Int32Array; labels: Int32Array } {
  const rng = new Rng(7);
  return { ids: Int32Array.from({ length: B * T }, () => rng.below(V)), labels: Int32Array.from({ length: B * T }, () => rng.below(V)) };
}

/** FLOPs of one step's matrix products (forward + both gradients; attention's products included). */
export function w7Flops(): number {
  const rows = B * T;
  const perBlock = 2 * rows * E * (3 * E + E + 2 * F) + 2 * 2 * B * H * T * T * D;
  return 3 * (L * perBlock + 2 * B * T * E * V);
}

/** An instance of a compiled W7 trainer, initialised from its seed, its input and label buffers holding w7Batch(). */
export async function fedW7Instance(module: WebAssembly.Module): Promise<StepExports> {
  const manifest = readManifest(module);
  const exports = (await WebAssembly.instantiate(module, {})).exports as unknown as StepExports;
  exports.init(manifest.seed);
  const { ids, labels } = w7Batch();
  new Int32Array(exports.memory.buffer, manifest.buffers.input.offset, ids.length).set(ids);
  new Int32Array(exports.memory.buffer, manifest.buffers.labels.offset, labels.length).set(labels);
  return exports;
}

export async function benchNablaW7(budgetMs: number): Promise<{ ms: { baseline: number; relaxed?: number }; compileMs: number; wasmBytes: number }> {
  const compiled = await compileToWasm(w7Spec());
  const module = await WebAssembly.compile(compiled.wasm);
  const time = async (m: WebAssembly.Module): Promise<number> => {
    const exports = await fedW7Instance(m);
    let loss = NaN;
    const ms = msPerCall(() => {
      loss = exports.train_step(B);
    }, budgetMs);
    if (!Number.isFinite(loss)) throw new Error(`nabla W7: non-finite loss ${loss}`);
    return ms;
  };
  const baseline = await time(module);
  const relaxedModule = await relaxedBuild(module);
  const relaxed = relaxedModule ? await time(relaxedModule) : undefined;
  return { ms: relaxed === undefined ? { baseline } : { baseline, relaxed }, compileMs: compiled.timings.totalMs, wasmBytes: compiled.wasm.length };
}

const glorot = (fanIn: number, fanOut: number): number => Math.sqrt(6 / (fanIn + fanOut));

export async function benchTfjsW7(backend: TfjsBackend, budgetMs: number): Promise<number> {
  await useTfjsBackend(backend);
  const { ids, labels } = w7Batch();
  const x = tf.oneHot(tf.tensor1d(ids, 'int32'), V).asType('float32') as tf.Tensor2D;
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), V).asType('float32');
  let seed = 1;
  const uniform = (shape: number[], limit: number) => tf.variable(tf.randomUniform(shape, -limit, limit, 'float32', seed++));
  const zeros = (shape: number[]) => tf.variable(tf.zeros(shape));
  const ones = (shape: number[]) => tf.variable(tf.ones(shape));
  const embedding = uniform([V, E], 0.05);
  const position = uniform([T, E], glorot(E, T));
  const blocks = Array.from({ length: L }, () => ({
    inW: uniform([E, 3 * E], glorot(E, 3 * E)),
    inB: zeros([3 * E]),
    outW: uniform([E, E], glorot(E, E)),
    outB: zeros([E]),
    w1: uniform([E, F], glorot(E, F)),
    b1: zeros([F]),
    w2: uniform([F, E], glorot(F, E)),
    b2: zeros([E]),
    g1: ones([E]),
    n1: zeros([E]),
    g2: ones([E]),
    n2: zeros([E]),
  }));
  const g = ones([E]);
  const n = zeros([E]);
  const headW = uniform([E, V], glorot(E, V));
  const headB = zeros([V]);
  // Additive causal mask: 0 on and below the diagonal, −1e9 above.
  const mask = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9);
  const norm = (h: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor2D => {
    const { mean, variance } = tf.moments(h, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, EPS))), gamma), beta) as tf.Tensor2D;
  };
  const heads = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [B, T, H, D]), [0, 2, 1, 3]);
  const gelu = (z: tf.Tensor) => tf.mul(tf.mul(0.5, z), tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))));
  const lossOf = (): tf.Scalar => {
    let h = tf.add(tf.reshape(tf.matMul(x, embedding), [B, T, E]), position).reshape([B * T, E]) as tf.Tensor2D;
    for (const p of blocks) {
      const qkv = tf.add(tf.matMul(norm(h, p.g1, p.n1), p.inW), p.inB) as tf.Tensor2D;
      const [q, k, v] = tf.split(qkv, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const scores = tf.add(tf.mul(tf.matMul(heads(q), heads(k), false, true), 1 / Math.sqrt(D)), mask);
      const attended = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), heads(v)), [0, 2, 1, 3]), [B * T, E]) as tf.Tensor2D;
      h = tf.add(h, tf.add(tf.matMul(attended, p.outW), p.outB)) as tf.Tensor2D;
      const hidden = gelu(tf.add(tf.matMul(norm(h, p.g2, p.n2), p.w1), p.b1)) as tf.Tensor2D;
      h = tf.add(h, tf.add(tf.matMul(hidden, p.w2), p.b2)) as tf.Tensor2D;
    }
    const logits = tf.add(tf.matMul(norm(h, g, n), headW), headB);
    return tf.losses.softmaxCrossEntropy(y, logits);
  };
  const optimizer = tf.train.sgd(W7.learningRate);
  let loss = NaN;
  const ms = msPerCall(() => {
    const cost = optimizer.minimize(lossOf, true)!;
    loss = cost.dataSync()[0]!;
    cost.dispose();
  }, budgetMs);
  tf.disposeVariables();
  tf.dispose([x, y, mask]);
  optimizer.dispose();
  if (!Number.isFinite(loss)) throw new Error(`tfjs-${backend} W7: non-finite loss ${loss}`);
  return ms;
}

type JaxBlock = {
  inW: np.Array;
  inB: np.Array;
  outW: np.Array;
  outB: np.Array;
  w1: np.Array;
  b1: np.Array;
  w2: np.Array;
  b2: np.Array;
  g1: np.Array;
  n1: np.Array;
  g2: np.Array;
  n2: np.Array;
};
type JaxParams = {
  embedding: np.Array;
  position: np.Array;
  blocks: JaxBlock[];
  g: np.Array;
  n: np.Array;
  headW: np.Array;
  headB: np.Array;
};

/** Median ms per jit-compiled step on jax-js's wasm device. */
export async function benchJaxW7(budgetMs: number): Promise<{ ms: number; device: string }> {
  const trainer = await jaxW7Trainer();
  let loss = NaN;
  const ms = msPerCall(() => {
    loss = trainer.step();
  }, budgetMs);
  const device = trainer.device();
  trainer.dispose();
  if (!Number.isFinite(loss)) throw new Error(`jax-js W7: non-finite loss ${loss}`);
  return { ms, device };
}

/** W7's jit-compiled step on jax-js's wasm device (loss read back); every array is used once or `.ref` first (jax-js counts references). */
export async function jaxW7Trainer(): Promise<{ step: () => number; device: () => string; dispose: () => void }> {
  await initJax();
  const { ids, labels } = w7Batch();
  const xA = nn.oneHot(np.array(ids, { dtype: np.int32 }), V);
  const yA = nn.oneHot(np.array(labels, { dtype: np.int32 }), V);
  let key = 1;
  const uniform = (shape: number[], limit: number) => random.uniform(random.key(key++), shape, { minval: -limit, maxval: limit });
  let params: JaxParams = {
    embedding: uniform([V, E], 0.05),
    position: uniform([T, E], glorot(E, T)),
    blocks: Array.from({ length: L }, () => ({
      inW: uniform([E, 3 * E], glorot(E, 3 * E)),
      inB: np.zeros([3 * E]),
      outW: uniform([E, E], glorot(E, E)),
      outB: np.zeros([E]),
      w1: uniform([E, F], glorot(E, F)),
      b1: np.zeros([F]),
      w2: uniform([F, E], glorot(F, E)),
      b2: np.zeros([E]),
      g1: np.ones([E]),
      n1: np.zeros([E]),
      g2: np.ones([E]),
      n2: np.zeros([E]),
    })),
    g: np.ones([E]),
    n: np.zeros([E]),
    headW: uniform([E, V], glorot(E, V)),
    headB: np.zeros([V]),
  };
  const norm = (h: np.Array, gamma: np.Array, beta: np.Array): np.Array => {
    const centered = h.ref.sub(np.mean(h, -1, { keepdims: true }));
    const variance = np.mean(np.square(centered.ref), -1, { keepdims: true });
    return centered.div(np.sqrt(variance.add(EPS))).mul(gamma).add(beta);
  };
  const heads = (t: np.Array): np.Array => t.reshape([B, T, H, D]).transpose([0, 2, 1, 3]);
  const lossOf = (p: JaxParams, xs: np.Array, ys: np.Array): np.Array => {
    const causal = np.tril(np.ones([T, T]));
    const blocked = causal.sub(1).mul(1e9);
    let h = np.matmul(xs, p.embedding).reshape([B, T, E]).add(p.position).reshape([B * T, E]);
    p.blocks.forEach((b, i) => {
      const qkv = np.matmul(norm(h.ref, b.g1, b.n1), b.inW).add(b.inB);
      const [q, k, v] = np.split(qkv, 3, 1) as [np.Array, np.Array, np.Array];
      const scores = np.matmul(heads(q), heads(k).transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(D)).add(i + 1 < p.blocks.length ? blocked.ref : blocked);
      const attended = np.matmul(nn.softmax(scores, -1), heads(v)).transpose([0, 2, 1, 3]).reshape([B * T, E]);
      h = h.add(np.matmul(attended, b.outW).add(b.outB));
      const hidden = nn.gelu(np.matmul(norm(h.ref, b.g2, b.n2), b.w1).add(b.b1), { approximate: false });
      h = h.add(np.matmul(hidden, b.w2).add(b.b2));
    });
    const logits = np.matmul(norm(h, p.g, p.n), p.headW).add(p.headB);
    return np.mean(np.sum(nn.logSoftmax(logits, -1).mul(ys), -1)).neg();
  };
  const trainStep = jit((p: JaxParams, xs: np.Array, ys: np.Array): [np.Array, JaxParams] => {
    const [loss, grads] = valueAndGrad(lossOf)(tree.ref(p), xs, ys);
    return [loss, tree.map((v: np.Array, g: np.Array) => v.sub(g.mul(W7.learningRate)), p, grads)];
  });
  let device = '';
  return {
    step: () => {
      const [cost, next] = trainStep(params, xA.ref, yA.ref);
      params = next;
      device = cost.device;
      return cost.dataSync()[0]!;
    },
    device: () => device,
    dispose: () => {
      tree.dispose([params, xA, yA]);
      trainStep.dispose();
    },
  };
}
