// Recurrent layers written out by hand in float64 from PyTorch's documented equations (nn.RNN,
// nn.LSTM, nn.GRU; gate blocks i, f, g, o and r, z, n), independent of nabla's graph: the
// reference the checkpoint tests compare outputs and gradients against. With a mask, Keras's rule:
// a masked step leaves h (and c) as they were and outputs the previous output, or zeros where
// Keras zeroes masked outputs (Bidirectional returning sequences).
type Weights = Readonly<Record<string, ArrayLike<number>>>;

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** y = W·x (+ b) for W [rows, columns] row-major. */
function affine(w: ArrayLike<number>, x: readonly number[], bias: ArrayLike<number> | undefined): number[] {
  const columns = x.length;
  const rows = w.length / columns;
  return Array.from({ length: rows }, (_, r) => {
    let s = bias ? bias[r]! : 0;
    for (let c = 0; c < columns; c++) s += w[r * columns + c]! * x[c]!;
    return s;
  });
}

export interface ReferenceOptions {
  readonly type: 'simple_rnn' | 'lstm' | 'gru';
  readonly units: number;
  readonly resetAfter?: boolean;
  readonly goBackwards?: boolean;
  readonly returnSequences?: boolean;
  /** A masked step outputs zeros rather than the previous output (Keras's zero_output_for_mask). */
  readonly zeroMaskedOutputs?: boolean;
}

/**
 * One sample [steps][features] → the layer's output: the last h, or every h flattened (reading
 * order). `mask[t]` 0 skips step t (default: every step read).
 */
export function referenceRecurrent(o: ReferenceOptions, weights: Weights, prefix: string, sample: readonly (readonly number[])[], mask?: readonly number[]): number[] {
  const u = o.units;
  const w = (name: string): ArrayLike<number> | undefined => weights[`${prefix}.${name}`];
  const order = sample.map((_, t) => t);
  if (o.goBackwards) order.reverse();
  let h = new Array<number>(u).fill(0);
  let c = new Array<number>(u).fill(0);
  const outputs: number[] = [];
  for (const t of order) {
    if (mask && mask[t] === 0) {
      outputs.push(...(o.zeroMaskedOutputs ? new Array<number>(u).fill(0) : h));
      continue;
    }
    const x = sample[t]!;
    const gi = affine(w('weight_ih_l0')!, x, w('bias_ih_l0'));
    const gh = affine(w('weight_hh_l0')!, h, w('bias_hh_l0'));
    const block = (g: number[], k: number): number[] => g.slice(k * u, (k + 1) * u);
    if (o.type === 'simple_rnn') {
      h = gi.map((v, j) => Math.tanh(v + gh[j]!));
    } else if (o.type === 'lstm') {
      const z = gi.map((v, j) => v + gh[j]!);
      const [i, f, g, out] = [block(z, 0).map(sigmoid), block(z, 1).map(sigmoid), block(z, 2).map(Math.tanh), block(z, 3).map(sigmoid)];
      c = c.map((cv, j) => f[j]! * cv + i[j]! * g[j]!);
      h = c.map((cv, j) => out[j]! * Math.tanh(cv));
    } else {
      const r = block(gi, 0).map((v, j) => sigmoid(v + block(gh, 0)[j]!));
      const z = block(gi, 1).map((v, j) => sigmoid(v + block(gh, 1)[j]!));
      let n: number[];
      if (o.resetAfter ?? true) {
        n = block(gi, 2).map((v, j) => Math.tanh(v + r[j]! * block(gh, 2)[j]!));
      } else {
        // (r·h)·W_hnᵀ + b_hn, W_hn the last block of W_hh's rows.
        const whh = w('weight_hh_l0')!;
        const whn = Array.from({ length: u * u }, (_, k) => whh[2 * u * u + k]!);
        const bhh = w('bias_hh_l0');
        const rec = affine(whn, r.map((rv, j) => rv * h[j]!), bhh ? Array.from({ length: u }, (_, j) => bhh[2 * u + j]!) : undefined);
        n = block(gi, 2).map((v, j) => Math.tanh(v + rec[j]!));
      }
      h = n.map((nv, j) => (1 - z[j]!) * nv + z[j]! * h[j]!);
    }
    outputs.push(...h);
  }
  return o.returnSequences ? outputs : h;
}

/** mean over samples of mean over columns of (ŷ − y)², nabla's mse. */
export function meanSquaredError(predicted: readonly (readonly number[])[], y: readonly (readonly number[])[]): number {
  return predicted.reduce((acc, row, i) => acc + row.reduce((a, v, j) => a + (v - y[i]![j]!) ** 2, 0) / row.length, 0) / predicted.length;
}

/** d loss / d each weight by centered differences of `loss` (float64), h = 1e-6. */
export function centeredGradients(weights: Readonly<Record<string, Float64Array>>, loss: (w: Readonly<Record<string, Float64Array>>) => number): Record<string, Float64Array> {
  const step = 1e-6;
  return Object.fromEntries(
    Object.entries(weights).map(([name, values]) => {
      const g = new Float64Array(values.length);
      for (let k = 0; k < values.length; k++) {
        const saved = values[k]!;
        values[k] = saved + step;
        const up = loss(weights);
        values[k] = saved - step;
        const down = loss(weights);
        values[k] = saved;
        g[k] = (up - down) / (2 * step);
      }
      return [name, g];
    }),
  );
}
