// jax-js's side: the same model written as a jax user writes a training step (a pytree of
// parameters, value_and_grad of the loss, the SGD update, the whole step under jit), on the wasm
// device. In Node there is no global Worker, so jax-js's wasm backend runs on one thread.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defaultDevice, init, jit, nn, numpy as np, random, tree, valueAndGrad } from '@jax-js/jax';
import { msPerCall } from './timing.ts';
import { syntheticBatch, type Workload } from './workloads.ts';

type Params = { w: np.Array; b: np.Array }[];

/** The installed @jax-js/jax version (its package.json is not exported, so read from disk). */
export function jaxVersion(): string {
  const require = createRequire(import.meta.url);
  const pkg = join(dirname(require.resolve('@jax-js/jax')), '..', 'package.json');
  return (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/** jax-js's wasm backend starts a Worker pool only where both globals exist (Node has no global Worker). */
export const jaxThreads = (): string =>
  typeof SharedArrayBuffer !== 'undefined' && typeof Worker !== 'undefined' ? 'a Worker pool' : 'one thread (no global Worker here)';

let ready: Promise<string> | undefined;

/**
 * Starts the wasm device only: `init()` with no arguments also probes WebGPU, which reads the
 * browser global `navigator` and throws a ReferenceError under Node 20. Resolves to the device
 * the arrays then live on (`defaultDevice()`), so the bench can say what actually ran.
 */
export function initJax(): Promise<string> {
  ready ??= (async () => {
    const devices = await init('wasm');
    if (!devices.includes('wasm')) throw new Error(`jax-js: the wasm device did not start (devices: ${devices.join(', ') || 'none'})`);
    defaultDevice('wasm');
    return defaultDevice();
  })();
  return ready;
}

/** One training step of `w` per `step()` call (loss read back), on jax-js's wasm device. */
export async function jaxTrainer(w: Workload): Promise<{ step: () => number; device: () => string; dispose: () => void }> {
  await initJax();
  const { x, labels, outputs } = syntheticBatch(w);
  const xA = np.array(x, { shape: [w.batch, w.inputs] });
  const yA = labels instanceof Int32Array ? nn.oneHot(np.array(labels, { dtype: np.int32 }), outputs) : np.array(labels, { shape: [w.batch, outputs] });
  let width = w.inputs;
  let params: Params = w.layers.map((l, i) => {
    const limit = Math.sqrt(6 / (width + l.units));
    const layer = { w: random.uniform(random.key(i + 1), [width, l.units], { minval: -limit, maxval: limit }), b: np.zeros([l.units]) };
    width = l.units;
    return layer;
  });
  // Every array passed to a jax-js function is consumed (reference counting): each value is used
  // once, or `.ref` first.
  const lossOf = (p: Params, xs: np.Array, ys: np.Array): np.Array => {
    let h = xs;
    p.forEach((layer, i) => {
      const z = np.matmul(h, layer.w).add(layer.b);
      const activation = w.layers[i]!.activation;
      h = activation === 'relu' ? nn.relu(z) : activation === 'tanh' ? np.tanh(z) : z;
    });
    // softmax layers stay logits: log_softmax applies the softmax itself, stably.
    return w.loss === 'mse' ? np.mean(np.square(h.sub(ys))) : np.mean(np.sum(nn.logSoftmax(h, -1).mul(ys), -1)).neg();
  };
  const trainStep = jit((p: Params, xs: np.Array, ys: np.Array): [np.Array, Params] => {
    const [loss, grads] = valueAndGrad(lossOf)(tree.ref(p), xs, ys);
    return [loss, tree.map((v: np.Array, g: np.Array) => v.sub(g.mul(w.learningRate)), p, grads)];
  });
  let device = '';
  return {
    step: () => {
      const [cost, next] = trainStep(params, xA.ref, yA.ref);
      params = next;
      device = cost.device;
      // Reading the loss runs the step's pending kernels (the loss and the new parameters share them).
      return cost.dataSync()[0]!;
    },
    device: () => device,
    dispose: () => {
      tree.dispose([params, xA, yA]);
      trainStep.dispose();
    },
  };
}

/** Median ms per step; `first` and `loss` are the losses of the first and last steps run. */
export async function benchJax(w: Workload, budgetMs: number): Promise<{ ms: number; first: number; loss: number; device: string }> {
  const trainer = await jaxTrainer(w);
  const first = trainer.step();
  let loss = first;
  const ms = msPerCall(() => {
    loss = trainer.step();
  }, budgetMs);
  const device = trainer.device();
  trainer.dispose();
  if (!Number.isFinite(loss)) throw new Error(`jax-js ${w.name}: non-finite loss ${loss}`);
  return { ms, first, loss, device };
}
