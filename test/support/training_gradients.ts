// Centered differences of the *training* loss — what gradients() returns, in training mode — so
// models whose training pass differs from inference (batch statistics, dropout masks) are
// checked through it. numericalGradients (compiler/gradcheck) differentiates evaluate(), the
// inference loss, which is the same thing for every other model.
import { finiteDifferenceStep } from '../../compiler/gradcheck/numerical.ts';
import type { Interpreter } from '../../compiler/interpret/interpreter.ts';
import type { TensorLike } from '../../runtime/tensor.ts';

/** d train loss / d w for the named parameters. Leaves the weights as found. */
export function trainingLossGradients(model: Interpreter, x: TensorLike, y: TensorLike, names: readonly string[]): Record<string, Float64Array> {
  const weights = model.getWeights();
  const record = Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, v.data.slice()]));
  const out: Record<string, Float64Array> = {};
  try {
    for (const name of names) {
      const values = record[name]!;
      out[name] = values.map((w, i) => {
        const h = finiteDifferenceStep(w);
        values[i] = w + h;
        model.setWeights(record);
        const plus = model.gradients(x, y).loss;
        values[i] = w - h;
        model.setWeights(record);
        const minus = model.gradients(x, y).loss;
        values[i] = w;
        return (plus - minus) / (2 * h);
      });
    }
  } finally {
    model.setWeights(weights);
  }
  return out;
}
