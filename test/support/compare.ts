// How far two arrays of values are apart, as the interop tests compare predictions.
import { expect } from 'vitest';

/** Largest |a − b| / (1 + |b|): float32 rounding of values of order one leaves ~1e-6. Asserts equal lengths. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return worst;
}
