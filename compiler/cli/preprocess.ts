// A seeded train/test split and feature standardisation, shared by `nabla train` and the examples.
import { permutation, Rng } from '../../runtime/prng.ts';

/** Rows of features and one label each; a Dataset from csv.ts is one. */
export interface Samples {
  readonly rows: number;
  readonly features: number;
  readonly x: Float64Array;
  readonly y: Float64Array;
}

/** The PRNG stream of the test split; fit's shuffles use 0xffffffff, initialisers 0, 1, 2, ... */
export const SPLIT_STREAM = 0xfffffffe;

export function takeSamples(data: Samples, indices: ArrayLike<number>): Samples {
  const { features } = data;
  const x = new Float64Array(indices.length * features);
  const y = new Float64Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    x.set(data.x.subarray(r * features, (r + 1) * features), i * features);
    y[i] = data.y[r]!;
  }
  return { rows: indices.length, features, x, y };
}

/**
 * Shuffles the rows with (seed, SPLIT_STREAM) and holds out round(rows × testFraction) of them
 * as the test set. A fraction of 0 gives an empty test set; otherwise both sides keep a row.
 */
export function trainTestSplit(data: Samples, testFraction: number, seed: number): { train: Samples; test: Samples } {
  if (!(testFraction >= 0 && testFraction < 1)) throw new RangeError(`test fraction must be in [0, 1), got ${testFraction}`);
  const testRows = testFraction === 0 ? 0 : Math.min(data.rows - 1, Math.max(1, Math.round(data.rows * testFraction)));
  if (testFraction > 0 && data.rows < 2) throw new RangeError(`cannot split ${data.rows} row into train and test sets`);
  const order = permutation(data.rows, new Rng(seed, SPLIT_STREAM));
  return { test: takeSamples(data, order.subarray(0, testRows)), train: takeSamples(data, order.subarray(testRows)) };
}

export interface Standardizer {
  readonly mean: Float64Array;
  /** Population standard deviation per feature (as scikit-learn's StandardScaler); 1 for constant features. */
  readonly std: Float64Array;
}

/** Per-feature mean and standard deviation of `data` (fit on the training rows only). */
export function fitStandardizer(data: Samples): Standardizer {
  const { rows, features, x } = data;
  const mean = new Float64Array(features);
  const std = new Float64Array(features);
  for (let r = 0; r < rows; r++) for (let c = 0; c < features; c++) mean[c]! += x[r * features + c]!;
  for (let c = 0; c < features; c++) mean[c]! /= rows;
  for (let r = 0; r < rows; r++) for (let c = 0; c < features; c++) std[c]! += (x[r * features + c]! - mean[c]!) ** 2;
  for (let c = 0; c < features; c++) {
    const s = Math.sqrt(std[c]! / rows);
    std[c] = s > 0 ? s : 1;
  }
  return { mean, std };
}

/** (x − mean) / std, feature by feature; returns new samples. */
export function standardize(data: Samples, scaler: Standardizer): Samples {
  const { features } = data;
  const x = data.x.map((v, i) => (v - scaler.mean[i % features]!) / scaler.std[i % features]!);
  return { ...data, x };
}
