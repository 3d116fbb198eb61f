// The error function, for the exact GELU. JavaScript and AssemblyScript have no erf, so both
// sides compute it the same way in float64 (assembly/special.ts mirrors erf64 below, then
// rounds to f32): the Maclaurin series below 2.5 (it loses at most a digit there) and Laplace's
// continued fraction for erfc above, 40 terms, which has converged to 1 ulp from 2.5 on.
// erfc(6) < 2.2e-17, so beyond 6 the value is ±1. Accurate to ~1e-16, which the float64
// interpreter's gradient check needs; the f32 rounding makes the trainer's correctly rounded.
import { elementwise } from './elementwise.ts';

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const SQRT_PI = 1.7724538509055159;

/** erfc(a) for a ≥ 2.5 by Laplace's continued fraction: e^(−a²)/(√π·t), no cancellation, 0 once e^(−a²) underflows. */
function erfcContinuedFraction(a: number): number {
  let t = a;
  for (let k = 40; k >= 1; k--) t = a + k / 2 / t;
  return Math.exp(-a * a) / (SQRT_PI * t);
}

export function erf64(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 2.5) {
    const a2 = a * a;
    let term = a;
    let sum = a;
    for (let k = 1; k < 100; k++) {
      term *= -a2 / k;
      const t = term / (2 * k + 1);
      sum += t;
      if (Math.abs(t) <= 1e-17 * sum) break;
    }
    r = sum * TWO_OVER_SQRT_PI;
  } else if (a < 6) {
    r = 1 - erfcContinuedFraction(a);
  } else {
    r = 1;
  }
  return x < 0 ? -r : r;
}

/**
 * erfc(x) = 1 − erf(x), with its relative accuracy kept where it is small (x ≥ 2.5: the
 * continued fraction itself, never 1 − erf, which would lose every digit by x = 6). Below 2.5
 * 1 − erf(x) ≥ 4e-4 loses at most four digits of the 16.
 */
export function erfc64(x: number): number {
  return x < 2.5 ? 1 - erf64(x) : erfcContinuedFraction(x);
}

export const erf = elementwise({
  name: 'erf',
  arity: 1,
  f64: erf64,
  scalar: (x) => `nabla_erf(${x})`,
  // A float32 fit on f32x4 (assembly/simd_math.ts), within 3 ulp; the scalar form above stays
  // for loop tails. With the series alone, W3 with GELU hidden layers took 3.58 ms a step;
  // with this, 1.24 ms (npm run bench:ab -- --activation gelu).
  simd: (x) => `nabla_erf4(${x})`,
  // erf′(x) = 2/√π · e^(−x²): e^(−x²) underflows to 0 for large |x|, never to NaN.
  vjp: (b, { g, inputs: [x] }) => [
    b.op('mul', [g, b.op('mul', [b.constant(TWO_OVER_SQRT_PI), b.op('exp', [b.op('neg', [b.op('mul', [x!, x!])])])])]),
  ],
});
