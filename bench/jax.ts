// jax-js's side: the same model written as a jax user writes a training step (a pytree of
// parameters, value_and_grad of the loss, the SGD update, the whole step under jit), on the wasm
// device. In Node there is no global Worker, so jax-js's wasm backend runs on one thread.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { jit, lax, nn, numpy as np, random, tree, valueAndGrad } from '@jax-js/jax';
import { initJax } from './jax_device.ts';
import { msPerCall } from './timing.ts';
import { convGeometry, syntheticBatch, type Workload } from './workloads.ts';

type Params = { w: np.Array; b: np.Array }[];

/** The installed @jax-js/jax version (its package.json is not exported, so read from disk). */
export function jaxVersion(): string {
  const require = createRequire(import.meta.url);
  const pkg = join(dirname(require.resolve('@jax-js/jax')), '..', 'package.json');
  return (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/** One training step of `w` per `step()` call (loss read back), on jax-js's wasm device. */
export async function jaxTrainer(w: Workload): Promise<{ step: () => number; device: () => string; dispose: () => void }> {
  await initJax();
  const { x, labels, outputs } = syntheticBatch(w);
  // jax's convolutions are NCHW with kernels [out, in, kh, kw]: the images are transposed once, outside the step.
  const xA = w.image
    ? np.array(x, { shape: [w.batch, ...w.image.shape] }).transpose([0, 3, 1, 2])
    : w.lstm
      ? np.array(x, { shape: [w.batch, w.lstm.steps, w.lstm.features] })
      : np.array(x, { shape: [w.batch, w.inputs] });
  const yA = labels instanceof Int32Array ? nn.oneHot(np.array(labels, { dtype: np.int32 }), outputs) : np.array(labels, { shape: [w.batch, outputs] });
  const { convs, flat } = convGeometry(w);
  const kernels: Params = convs.map((c) => {
    const limit = Math.sqrt(6 / (c.kernel * c.kernel * (c.input[2] + c.output[2])));
    return { w: random.uniform(random.key(100 + c.index), [c.output[2], c.input[2], c.kernel, c.kernel], { minval: -limit, maxval: limit }), b: np.zeros([c.output[2], 1, 1]) };
  });
  // The LSTM as nabla's layer computes it: kernels [in, 4·units] glorot_uniform (as tfjs's bench),
  // gates i, f, g, o, PyTorch's two biases (input and recurrent, zero); held in the first list
  // beside the conv kernels (W6 has none).
  if (w.lstm) {
    const { features, units } = w.lstm;
    const uniform = (key: number, shape: number[], fanIn: number, fanOut: number) => {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      return random.uniform(random.key(key), shape, { minval: -limit, maxval: limit });
    };
    kernels.push({ w: uniform(50, [features, 4 * units], features, 4 * units), b: np.zeros([4 * units]) }, { w: uniform(51, [units, 4 * units], units, 4 * units), b: np.zeros([4 * units]) });
  }
  let width = flat;
  const params: Params = w.layers.map((l, i) => {
    const limit = Math.sqrt(6 / (width + l.units));
    const layer = { w: random.uniform(random.key(i + 1), [width, l.units], { minval: -limit, maxval: limit }), b: np.zeros([l.units]) };
    width = l.units;
    return layer;
  });
  // Every array passed to a jax-js function is consumed (reference counting): each value is used
  // once, or `.ref` first.
  // Conv stages (relu) and 2×2 max pools (a reshape and a max over the window axes), then flatten.
  const front = (k: Params, xs: np.Array): np.Array => {
    if (w.lstm) return lstmLastState(w.lstm, w.batch, k, xs);
    if (!w.image) return xs;
    let image = xs;
    let [h, wd, c] = w.image.shape;
    let next = 0;
    for (const s of w.image.stages) {
      if (s.kind === 'conv') {
        const { w: kernel, b } = k[next++]!;
        image = nn.relu(lax.conv(image, kernel, [1, 1], s.padding === 'same' ? 'SAME' : 'VALID').add(b));
        c = s.filters;
        if (s.padding === 'valid') [h, wd] = [h - s.kernel + 1, wd - s.kernel + 1];
      } else {
        [h, wd] = [h / s.size, wd / s.size];
        image = np.max(image.reshape([w.batch, c, h, s.size, wd, s.size]), [3, 5]);
      }
    }
    return image.reshape([w.batch, flat]);
  };
  const lossOf = ([k, p]: [Params, Params], xs: np.Array, ys: np.Array): np.Array => {
    let h = front(k, xs);
    p.forEach((layer, i) => {
      const z = np.matmul(h, layer.w).add(layer.b);
      const activation = w.layers[i]!.activation;
      h = activation === 'relu' ? nn.relu(z) : activation === 'tanh' ? np.tanh(z) : z;
    });
    // softmax layers stay logits: log_softmax applies the softmax itself, stably.
    return w.loss === 'mse' ? np.mean(np.square(h.sub(ys))) : np.mean(np.sum(nn.logSoftmax(h, -1).mul(ys), -1)).neg();
  };
  const trainStep = jit((p: [Params, Params], xs: np.Array, ys: np.Array): [np.Array, [Params, Params]] => {
    const [loss, grads] = valueAndGrad(lossOf)(tree.ref(p), xs, ys);
    return [loss, tree.map((v: np.Array, g: np.Array) => v.sub(g.mul(w.learningRate)), p, grads)];
  });
  let all: [Params, Params] = [kernels, params];
  let device = '';
  return {
    step: () => {
      const [cost, next] = trainStep(all, xA.ref, yA.ref);
      all = next;
      device = cost.device;
      // Reading the loss runs the step's pending kernels (the loss and the new parameters share them).
      return cost.dataSync()[0]!;
    },
    device: () => device,
    dispose: () => {
      tree.dispose([all, xA, yA]);
      trainStep.dispose();
    },
  };
}

/**
 * The last hidden state of an LSTM over xs [batch, steps, features]: every step's input projection
 * in one product, then per step the recurrent product and the gates (i, f, g, o), as tfjs's bench
 * compute it (h = 0 before the first step, so there only the biases). `k`: [input kernel, its
 * bias], [recurrent kernel, its bias].
 */
function lstmLastState(lstm: { readonly steps: number; readonly features: number; readonly units: number }, batch: number, k: Params, xs: np.Array): np.Array {
  const { steps, features, units } = lstm;
  const [input, recurrent] = k as [Params[number], Params[number]];
  const projected = np.matmul(xs.transpose([1, 0, 2]).reshape([steps * batch, features]), input.w).add(input.b).reshape([steps, batch, 4 * units]);
  const perStep = np.split(projected, steps, 0) as np.Array[];
  let h: np.Array | undefined;
  let c: np.Array | undefined;
  perStep.forEach((step, t) => {
    const xp = step.reshape([batch, 4 * units]);
    const last = t + 1 === steps;
    const bias = last ? recurrent.b : recurrent.b.ref;
    const z = h ? xp.add(np.matmul(h, last ? recurrent.w : recurrent.w.ref).add(bias)) : xp.add(bias);
    const [i, f, g, o] = np.split(z, 4, 1) as [np.Array, np.Array, np.Array, np.Array];
    const ig = nn.sigmoid(i).mul(np.tanh(g));
    c = c ? nn.sigmoid(f).mul(c).add(ig) : (f.dispose(), ig);
    h = nn.sigmoid(o).mul(np.tanh(c.ref));
  });
  c!.dispose();
  return h!;
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
