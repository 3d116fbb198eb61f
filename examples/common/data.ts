// What the graph-form examples share: column picking, row tensors and the regression score.
import type { Samples } from '../../compiler/cli/preprocess.ts';

/** The given feature columns of every row, as a [rows, columns] tensor. */
export function columns(s: Samples, picked: readonly number[]): { shape: number[]; data: Float64Array } {
  const data = new Float64Array(s.rows * picked.length);
  for (let r = 0; r < s.rows; r++) picked.forEach((c, k) => (data[r * picked.length + k] = s.x[r * s.features + c]!));
  return { shape: [s.rows, picked.length], data };
}

/** Coefficient of determination: 1 − Σ(y − ŷ)² / Σ(y − ȳ)². */
export function rSquared(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < actual.length; i++) mean += actual[i]!;
  mean /= actual.length;
  let residual = 0;
  let total = 0;
  for (let i = 0; i < actual.length; i++) {
    residual += (actual[i]! - predicted[i]!) ** 2;
    total += (actual[i]! - mean) ** 2;
  }
  return 1 - residual / total;
}

export function meanSquaredError(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += (actual[i]! - predicted[i]!) ** 2;
  return sum / actual.length;
}
