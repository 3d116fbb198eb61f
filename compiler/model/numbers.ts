// Number schemas for spec scalars. The trainer computes in float32, so a scalar is checked as
// the float32 it becomes, not as the float64 JSON gave: 1e39 is finite in float64 and +Inf in
// float32, and an epsilon of 1e-50 is positive in float64 and 0 in float32. The interpreter runs
// in float64 and would accept both; refusing them here keeps the two executors on one model.
import { z } from 'zod';

/** The largest finite float32, (2 − 2⁻²³)·2¹²⁷. */
export const F32_MAX = 3.4028234663852886e38;

/** True when `v` rounds to a finite float32. */
export function isFiniteF32(v: number): boolean {
  return Number.isFinite(Math.fround(v));
}

const FINITE_F32 = 'expected a number that is finite in float32 (|x| ≤ 3.4028235e38)';

/** Any number whose float32 rounding is finite. */
export const f32Number = z.number().refine(isFiniteF32, { error: FINITE_F32 });

/** > 0 in float32, and finite: learning rates, scales, stddevs, deltas, epsilons. */
export const f32Positive = z
  .number()
  .positive({ error: 'expected a positive number' })
  .refine(isFiniteF32, { error: FINITE_F32 })
  .refine((v) => Math.fround(v) > 0, { error: 'expected a positive number; this one is 0 in float32 (smallest positive float32: 1.4e-45)' });

/**
 * An epsilon, added to a denominator: positive in float32 and large enough to matter next to the
 * values it guards (a subnormal float32 such as 1e-44 is still positive, so it is allowed).
 */
export const f32Epsilon = f32Positive;

/** ≥ 0 and finite in float32: weight decays, loss weights, l2. */
export const f32NonNegative = z
  .number()
  .nonnegative({ error: 'expected a non-negative number' })
  .refine(isFiniteF32, { error: FINITE_F32 });

/** A fraction in [0, 1) whose float32 rounding is also below 1 (0.99999999 rounds to 1 in float32). */
export const f32Fraction = z
  .number()
  .min(0, { error: 'expected a number in [0, 1)' })
  .lt(1, { error: 'expected a number in [0, 1)' })
  .refine((v) => Math.fround(v) < 1, { error: 'expected a number in [0, 1); this one is 1 in float32' });

/** A count: an integer in [1, max]. The trainer indexes with u32, so max defaults to 2³² − 1. */
export function positiveCount(max = 0xffffffff) {
  return z.int({ error: 'expected an integer' }).positive({ error: 'expected a positive integer' }).max(max, { error: `expected an integer ≤ ${max}` });
}

/** True for integers ≥ 1 that are exact in float64 (shapes, sizes, row counts). */
export function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
}

/** True for integers ≥ 0 that are exact in float64. */
export function isNonNegativeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
