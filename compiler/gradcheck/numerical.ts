// Numerical gradients by centered differences on the float64 interpreter, and the relative
// difference used to compare gradients: ‖a − b‖₂ / (‖a‖₂ + ‖b‖₂).
import type { Feed } from '../../runtime/tensor.ts';
import type { Interpreter } from '../interpret/interpreter.ts';

/**
 * Step for parameter value w: h = ∛ε_f64 · max(1, |w|) ≈ 6e-6 for unit-scale weights, which
 * balances the O(h²) truncation error of centered differences against O(ε/h) rounding error.
 */
export function finiteDifferenceStep(w: number): number {
  return Math.cbrt(Number.EPSILON) * Math.max(1, Math.abs(w));
}

/** The loss a numerical gradient differentiates: by default evaluate()'s (inference mode). */
export type LossOf = (model: Interpreter, x: Feed, y: Feed) => number;
const inferenceLoss: LossOf = (model, x, y) => model.evaluate(x, y).loss;
/** The training-mode loss (batch statistics): what gradients() differentiates, without the backward pass. */
export const trainingLoss: LossOf = (model, x, y) => model.trainingLoss(x, y);

/**
 * d loss / d parameter for every parameter (or the listed ones), by (L(w+h) − L(w−h)) / 2h.
 * With `indices`, only those elements of a tensor are differentiated (the rest are NaN): the
 * way to sample a large model. Leaves weights as found.
 */
export function numericalGradients(
  model: Interpreter,
  x: Feed,
  y: Feed,
  only?: readonly string[],
  lossOf: LossOf = inferenceLoss,
  indices?: ReadonlyMap<string, ArrayLike<number>>,
): Record<string, Float64Array> {
  const weights = model.getWeights();
  const record = Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, v.data.slice()]));
  const out: Record<string, Float64Array> = {};
  try {
    for (const [name, tensor] of Object.entries(weights)) {
      if (only && !only.includes(name)) continue;
      const values = record[name]!;
      const grad = new Float64Array(values.length);
      const chosen = indices?.get(name);
      if (chosen) grad.fill(NaN);
      const count = chosen ? chosen.length : values.length;
      for (let k = 0; k < count; k++) {
        const i = chosen ? chosen[k]! : k;
        const w = tensor.data[i]!;
        const h = finiteDifferenceStep(w);
        values[i] = w + h;
        model.setWeights(record);
        const plus = lossOf(model, x, y);
        values[i] = w - h;
        model.setWeights(record);
        const minus = lossOf(model, x, y);
        values[i] = w;
        grad[i] = (plus - minus) / (2 * h);
      }
      out[name] = grad;
    }
  } finally {
    model.setWeights(weights);
  }
  return out;
}

/**
 * With `floor`, the denominator is at least `floor`: a gradient that is zero up to rounding is
 * then judged against the scale the caller gives (the model's gradient norm), not against its own
 * rounding noise, which would make any two computations of it differ by about 100 %.
 */
export function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>, floor = 0): number {
  if (a.length !== b.length) throw new Error(`relativeDifference: lengths ${a.length} and ${b.length}`);
  let diff = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i]! - b[i]!) ** 2;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  const denom = Math.max(Math.sqrt(na) + Math.sqrt(nb), floor);
  return denom === 0 ? 0 : Math.sqrt(diff) / denom;
}
