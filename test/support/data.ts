// Seeded test data, rounded to float32 so the compiled trainer and the interpreter see the same numbers.
import { Rng } from '../../runtime/prng.ts';

export function randomMatrix(rows: number, cols: number, seed: number, scale = 1): number[][] {
  const rng = new Rng(seed, 1234);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.fround(scale * (2 * rng.uniform() - 1))));
}

export function randomClasses(rows: number, classes: number, seed: number): number[] {
  const rng = new Rng(seed, 4321);
  return Array.from({ length: rows }, () => rng.below(classes));
}

export function randomBits(rows: number, cols: number, seed: number): number[][] {
  const rng = new Rng(seed, 999);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => (rng.uniform() < 0.5 ? 0 : 1)));
}

export function oneHot(classes: readonly number[], count: number): number[][] {
  return classes.map((k) => Array.from({ length: count }, (_, c) => (c === k ? 1 : 0)));
}

/** Four features; the label is the index of the largest of the first three: three separable classes. */
export function argmaxBlobs(rows: number, seed: number, scale = 1): { x: number[][]; y: number[] } {
  const x = randomMatrix(rows, 4, seed, scale);
  const y = x.map((r) => [0, 1, 2].reduce((best, k) => (r[k]! > r[best]! ? k : best), 0));
  return { x, y };
}

/**
 * Weights plus seeded noise of scale 0.3, rounded to float32: zero-initialised tensors vary and
 * no bias sits exactly on an activation's kink. Running variances only grow, staying positive.
 */
export function perturbed(weights: Readonly<Record<string, { readonly data: ArrayLike<number> }>>, seed: number): Record<string, Float64Array> {
  return Object.fromEntries(
    Object.entries(weights).map(([name, t], k) => {
      const noise = randomMatrix(1, t.data.length, seed + k, 0.3)[0]!;
      const positive = name.endsWith('running_var');
      return [name, Float64Array.from(t.data, (v, i) => Math.fround(v + (positive ? Math.abs(noise[i]!) : noise[i]!)))];
    }),
  );
}
