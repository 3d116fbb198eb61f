// How far two arrays of values are apart, as the interop tests compare predictions.
import { expect } from 'vitest';

/** Largest |a − b| / (1 + |b|): float32 rounding of values of order one leaves ~1e-6. Asserts equal lengths. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return worst;
}

/** What trains a step on a batch and shows its weights: a compiled trainer or the interpreter. */
interface Stepper {
  trainStep(x: number[][] | number[][][], y: number[][] | number[][][]): number;
  getWeights(): Record<string, { readonly data: ArrayLike<number> }>;
}

/**
 * Trains `compiled` and `interpreter` on the same batches (full and partial ones, as the caller
 * gives them): each step's loss and, at the end, every weight agree within float32 rounding
 * (1e-5 relative, absolute below 1).
 */
export function expectStepsLikeInterpreter(compiled: Stepper, interpreter: Stepper, batches: readonly (readonly [number[][] | number[][][], number[][] | number[][][]])[]): void {
  for (const [x, y] of batches) {
    const got = compiled.trainStep(x, y);
    const exact = interpreter.trainStep(x, y);
    expect(Math.abs(got - exact) / Math.max(1, Math.abs(exact))).toBeLessThan(1e-5);
  }
  const weights = compiled.getWeights();
  for (const [name, w] of Object.entries(interpreter.getWeights())) {
    const c = weights[name]!.data;
    for (let i = 0; i < w.data.length; i++) expect(Math.abs(c[i]! - w.data[i]!), `${name}[${i}]`).toBeLessThan(1e-5 * Math.max(1, Math.abs(w.data[i]!)));
  }
}
