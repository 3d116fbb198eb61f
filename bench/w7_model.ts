// W7's definition, shared by the Node benches (bench/transformer.ts, w7_paired.ts, threads.ts, …)
// and the Chromium page of bench/w7_browser.ts: its sizes, the seeded batch, nabla's trainer fed
// with it, and jax-js's step written as a jax user writes it. Web-standard only: no Node module
// and no compiler here (the spec file is read in bench/transformer.ts).
import { jit, nn, numpy as np, random, tree, valueAndGrad, blockUntilReady } from '@jax-js/jax';
import { Rng } from '../runtime/prng.ts';
import { initJax } from './jax_device.ts';
import type { Manifest } from '../runtime/manifest.ts';
import { fedStepInstance, type Feed, type StepExports } from './nabla_builds.ts';

export const W7 = { name: 'W7', batch: 32, context: 16, vocabulary: 27, width: 64, heads: 4, mlp: 128, blocks: 2, learningRate: 0.01 } as const;
const { batch: B, context: T, vocabulary: V, width: E, heads: H, mlp: F, blocks: L } = W7;
const D = E / H;
/** Layer norm's epsilon, as examples/words/model.json gives it. */
export const W7_NORM_EPSILON = 1e-5;
const EPS = W7_NORM_EPSILON;

/** Glorot-uniform's limit, as nabla's default initialiser draws. */
export const glorot = (fanIn: number, fanOut: number): number => Math.sqrt(6 / (fanIn + fanOut));

/** Seeded ids [B, T] and labels [B, T] (a next id at every position). */
export function w7Batch(): { ids: Int32Array; labels: Int32Array } {
  const rng = new Rng(7);
  return { ids: Int32Array.from({ length: B * T }, () => rng.below(V)), labels: Int32Array.from({ length: B * T }, () => rng.below(V)) };
}

/** Writes w7Batch() into a W7 trainer's input and label buffers. */
export function feedW7(): Feed {
  const { ids, labels } = w7Batch();
  return (manifest, buffer) => {
    new Int32Array(buffer, manifest.buffers.input.offset, ids.length).set(ids);
    new Int32Array(buffer, manifest.buffers.labels.offset, labels.length).set(labels);
  };
}

/** An instance of a compiled W7 trainer, initialised from its seed, its input and label buffers holding w7Batch(). */
export function fedW7Instance(module: WebAssembly.Module): Promise<StepExports> {
  return fedStepInstance(module, feedW7());
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

export interface JaxW7Trainer {
  /** One step, its loss read with dataSync(): every kernel then runs on the calling thread, even where jax-js has a worker pool. */
  step(): number;
  /**
   * One step, its loss read with `await data()`: where jax-js has its worker pool (a
   * cross-origin-isolated page), the step's kernels run on the workers. Resolves once the new
   * parameters are computed too, so that no work of this step is still running on the workers
   * when the next thing is timed.
   */
  stepAsync(): Promise<number>;
  device(): string;
  dispose(): void;
}

/** A W7 trainer's parameters as its manifest names them (PyTorch's names and layouts), copied out of its memory. */
export type W7Weights = ReadonlyMap<string, Float32Array>;

/** The parameters of a W7 instance (after init, they are its initial weights). */
export function nablaW7Weights(manifest: Manifest, memory: ArrayBufferLike): W7Weights {
  return new Map(manifest.buffers.params.map((p) => [p.name, new Float32Array(memory, p.offset, p.bytes / 4).slice()]));
}

/** jax-js's parameters from nabla's: the same values, the weight matrices transposed from PyTorch's [out, in] to the [in, out] that jax's x·W reads. */
function jaxParamsFrom(w: W7Weights): JaxParams {
  const at = (name: string, shape: number[]): np.Array => {
    const data = w.get(name);
    if (!data) throw new Error(`W7: nabla's weights have no '${name}'`);
    return np.array(data).reshape(shape);
  };
  const transposed = (name: string, out: number, inputs: number): np.Array => at(name, [out, inputs]).transpose([1, 0]);
  return {
    embedding: at('tokens.weight', [V, E]),
    position: at('positions.weight', [T, E]),
    blocks: Array.from({ length: L }, (_, i) => {
      const b = `block${i + 1}.`;
      return {
        inW: transposed(`${b}self_attn.in_proj_weight`, 3 * E, E),
        inB: at(`${b}self_attn.in_proj_bias`, [3 * E]),
        outW: transposed(`${b}self_attn.out_proj.weight`, E, E),
        outB: at(`${b}self_attn.out_proj.bias`, [E]),
        w1: transposed(`${b}linear1.weight`, F, E),
        b1: at(`${b}linear1.bias`, [F]),
        w2: transposed(`${b}linear2.weight`, E, F),
        b2: at(`${b}linear2.bias`, [E]),
        g1: at(`${b}norm1.weight`, [E]),
        n1: at(`${b}norm1.bias`, [E]),
        g2: at(`${b}norm2.weight`, [E]),
        n2: at(`${b}norm2.bias`, [E]),
      };
    }),
    g: at('norm.weight', [E]),
    n: at('norm.bias', [E]),
    headW: transposed('next.weight', V, E),
    headB: at('next.bias', [V]),
  };
}

/**
 * W7's jit-compiled step on jax-js's wasm device (loss read back); every array is used once or
 * `.ref` first (jax-js counts references). `initial`: start from these weights (a nabla trainer's,
 * so both systems compute the same steps from the same point), else from jax-js's own draws.
 */
export async function jaxW7Trainer(initial?: W7Weights): Promise<JaxW7Trainer> {
  await initJax();
  const { ids, labels } = w7Batch();
  const xA = nn.oneHot(np.array(ids, { dtype: np.int32 }), V);
  const yA = nn.oneHot(np.array(labels, { dtype: np.int32 }), V);
  let key = 1;
  const uniform = (shape: number[], limit: number) => random.uniform(random.key(key++), shape, { minval: -limit, maxval: limit });
  let params: JaxParams = initial ? jaxParamsFrom(initial) : {
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
    stepAsync: async () => {
      const [cost, next] = trainStep(params, xA.ref, yA.ref);
      params = next;
      device = cost.device;
      const loss = (await cost.data())[0]!;
      await blockUntilReady(params);
      return loss;
    },
    device: () => device,
    dispose: () => {
      tree.dispose([params, xA, yA]);
      trainStep.dispose();
    },
  };
}
