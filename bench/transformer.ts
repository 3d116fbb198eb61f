// W7: the 2-block causal transformer of examples/words (27 token ids, context 16, width 64, 4 heads,
// MLP 128, pre-norm, exact gelu; layer norm and a softmax over 27 at every position, the loss the
// mean over the 32·16 positions), batch 32, SGD 0.01, on every system: nabla's compiled trainer
// (its own spec), TensorFlow.js (wasm, cpu) and jax-js written as their users write a transformer
// step. The same synthetic ids and next-token labels (seeded) for all; tfjs and jax-js take the ids
// one-hot (a [32·16, 27] product with the embedding table) where nabla gathers rows. The sizes,
// the batch and the jax-js step live in bench/w7_model.ts (web-standard, for the browser page too);
// the spec, the tfjs step and the timings here.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { compileToWasm } from '../compiler/compile.ts';
import { relaxedBuild } from './nabla_builds.ts';
import { msPerCall } from './timing.ts';
import { useTfjsBackend, type TfjsBackend } from './tfjs.ts';
import { fedW7Instance, glorot, jaxW7Trainer, W7, W7_NORM_EPSILON as EPS, w7Batch } from './w7_model.ts';

const { batch: B, context: T, vocabulary: V, width: E, heads: H, mlp: F, blocks: L } = W7;
const D = E / H;

/** The examples/words model at batch 32 with SGD, as the other workloads train. */
export function w7Spec(): Record<string, unknown> {
  const spec = JSON.parse(readFileSync(new URL('../examples/words/model.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  return { ...spec, name: 'W7', batchSize: B, optimizer: { type: 'sgd', learningRate: W7.learningRate } };
}

/** FLOPs of one step's matrix products (forward + both gradients; attention's products included). */
export function w7Flops(): number {
  const rows = B * T;
  const perBlock = 2 * rows * E * (3 * E + E + 2 * F) + 2 * 2 * B * H * T * T * D;
  return 3 * (L * perBlock + 2 * B * T * E * V);
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

