// TensorFlow.js's side: the same model written as tfjs users write a custom training step
// (variables, optimizer.minimize returning the cost, cost read back with dataSync), on the
// wasm backend (SIMD, one thread, binary loaded from node_modules) and the pure-JS cpu backend.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { msOfSlowCall, msPerCall } from './timing.ts';
import { convGeometry, syntheticBatch, type Workload } from './workloads.ts';

export type TfjsBackend = 'wasm' | 'cpu';

/** The .wasm files tfjs-backend-wasm read from disk (Emscripten reads them with fs.readFileSync in Node). */
export const loadedWasm: string[] = [];

let wasmReady = false;

/** Makes `backend` tfjs's current one (the wasm backend loaded once, one thread). */
export async function useTfjsBackend(backend: TfjsBackend): Promise<void> {
  if (backend === 'wasm' && !wasmReady) {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
    setWasmPaths(`${dir}/`);
    // One thread: the threaded binary would otherwise be chosen where SharedArrayBuffer exists.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setThreadsCount(1);
    const readFileSync = fs.readFileSync;
    fs.readFileSync = ((path: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
      if (typeof path === 'string' && path.endsWith('.wasm')) loadedWasm.push(path);
      return (readFileSync as (...a: unknown[]) => unknown)(path, ...rest);
    }) as typeof fs.readFileSync;
    try {
      if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialise');
    } finally {
      fs.readFileSync = readFileSync;
    }
    wasmReady = true;
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend ${backend} failed to initialise`);
}

export async function benchTfjs(w: Workload, backend: TfjsBackend, budgetMs: number, slowSteps = false): Promise<{ ms: number; loss: number }> {
  await useTfjsBackend(backend);
  const { x, labels, outputs } = syntheticBatch(w);
  const xT = w.image ? tf.tensor4d(x, [w.batch, ...w.image.shape]) : tf.tensor2d(x, [w.batch, w.inputs]);
  const yT = labels instanceof Int32Array ? tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), outputs), 'float32') : tf.tensor2d(labels, [w.batch, outputs]);
  // Conv stages as tfjs users write them: NHWC, kernels [kh, kw, in, out] (glorot_uniform), relu; max pools.
  const { convs, flat } = convGeometry(w);
  const kernels = convs.map((c) => {
    const limit = Math.sqrt(6 / (c.kernel * c.kernel * (c.input[2] + c.output[2])));
    return {
      weight: tf.variable(tf.randomUniform([c.kernel, c.kernel, c.input[2], c.output[2]], -limit, limit, 'float32', 100 + c.index)),
      bias: tf.variable(tf.zeros([c.output[2]])),
    };
  });
  let width = flat;
  const layers = w.layers.map((l, i) => {
    const limit = Math.sqrt(6 / (width + l.units));
    const layer = {
      weight: tf.variable(tf.randomUniform([width, l.units], -limit, limit, 'float32', i + 1)),
      bias: tf.variable(tf.zeros([l.units])),
      activation: l.activation,
    };
    width = l.units;
    return layer;
  });
  // The LSTM as tfjs's own layer computes it: all steps' input projections in one product, then per step
  // the recurrent product, gates i, f, g, o (kernels [in, 4·units], glorot_uniform; biases zero).
  const lstm = w.lstm
    ? {
        kernel: tf.variable(tf.randomUniform([w.lstm.features, 4 * w.lstm.units], -Math.sqrt(6 / (w.lstm.features + 4 * w.lstm.units)), Math.sqrt(6 / (w.lstm.features + 4 * w.lstm.units)), 'float32', 50)),
        recurrent: tf.variable(tf.randomUniform([w.lstm.units, 4 * w.lstm.units], -Math.sqrt(6 / (5 * w.lstm.units)), Math.sqrt(6 / (5 * w.lstm.units)), 'float32', 51)),
        bias: tf.variable(tf.zeros([4 * w.lstm.units])),
      }
    : undefined;
  const optimizer = tf.train.sgd(w.learningRate);
  const front = (): tf.Tensor2D => {
    if (w.lstm && lstm) {
      const { steps, features, units } = w.lstm;
      const projected = tf.reshape(tf.add(tf.matMul(tf.reshape(xT, [w.batch * steps, features]), lstm.kernel), lstm.bias), [w.batch, steps, 4 * units]);
      const inputs = tf.unstack(projected, 1) as tf.Tensor2D[];
      let h: tf.Tensor2D | undefined;
      let c: tf.Tensor2D | undefined;
      for (const xp of inputs) {
        const z = h ? (tf.add(xp, tf.matMul(h, lstm.recurrent)) as tf.Tensor2D) : xp;
        const [i, f, g, o] = tf.split(z, 4, 1) as tf.Tensor2D[];
        const ig = tf.mul(tf.sigmoid(i!), tf.tanh(g!));
        c = (c ? tf.add(tf.mul(tf.sigmoid(f!), c), ig) : ig) as tf.Tensor2D;
        h = tf.mul(tf.sigmoid(o!), tf.tanh(c)) as tf.Tensor2D;
      }
      return h!;
    }
    if (!w.image) return xT as tf.Tensor2D;
    let image = xT as tf.Tensor4D;
    let k = 0;
    for (const s of w.image.stages) {
      if (s.kind === 'conv') {
        const { weight, bias } = kernels[k++]!;
        image = tf.relu(tf.add(tf.conv2d(image, weight as tf.Tensor4D, 1, s.padding), bias)) as tf.Tensor4D;
      } else image = tf.maxPool(image, s.size, s.size, 'valid');
    }
    return tf.reshape(image, [w.batch, flat]);
  };
  const lossOf = (): tf.Scalar => {
    let h: tf.Tensor2D = front();
    for (const l of layers) {
      const z = tf.add(tf.matMul(h, l.weight), l.bias) as tf.Tensor2D;
      h = l.activation === 'relu' ? tf.relu(z) : l.activation === 'tanh' ? tf.tanh(z) : z;
    }
    // softmax layers stay logits: softmaxCrossEntropy applies the softmax itself, stably.
    return w.loss === 'mse' ? tf.losses.meanSquaredError(yT, h) : tf.losses.softmaxCrossEntropy(yT, h);
  };
  let loss = NaN;
  const step = (): void => {
    const cost = optimizer.minimize(lossOf, true)!;
    loss = cost.dataSync()[0]!;
    cost.dispose();
  };
  // A step of many seconds (the cpu backend's convolutions) is timed once, after one warm-up step.
  const ms = slowSteps ? msOfSlowCall(step) : msPerCall(step, budgetMs);
  tf.dispose([xT, yT, ...layers.flatMap((l) => [l.weight, l.bias]), ...kernels.flatMap((k) => [k.weight, k.bias]), ...(lstm ? [lstm.kernel, lstm.recurrent, lstm.bias] : [])]);
  optimizer.dispose();
  if (!Number.isFinite(loss)) throw new Error(`tfjs-${backend} ${w.name}: non-finite loss ${loss}`);
  return { ms, loss };
}
