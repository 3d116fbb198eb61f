// Transcendental functions on f32x4, so elementwise loops over them stay vectorised. exp and
// tanh use Cephes's single-precision polynomials (expf, tanhf): about 2 ulp over the range. erf
// and softplus use relative-minimax fits made for nabla (rational or polynomial, fitted in
// float64 by differential correction against 30-digit values): within about 3 ulp after the
// float32 rounding (test/simd-math.test.ts checks each against float64; docs/simd-fits.md
// has the fitter and the calls that gave the coefficients). gelu and its derivative reuse erf's
// two fits: Φ(x) = ½(1 + erf(x/√2)) near 0, ½erfc from the second fit below, within about 4 ulp.
//
// exp and erf evaluate their polynomials by madd (assembly/madd.ts): mul + add in the baseline
// build, as before, and one fused multiply-add in the relaxed build, which runs gelu's erf in
// about 0.85 of the time (a loop over 65,536 floats, 21 paired rounds, load about 4).

import { madd } from './madd';

/** e^x on four lanes: 2^n · P(r) with x = n·ln2 + r, |r| ≤ ln2/2; overflows to +∞; below −87.3 it gives the smallest normal float (≈1.2e−38). */
@inline
export function nabla_exp4(x: v128): v128 {
  // pmax/pmin are one instruction each (f32x4.max/min cost V8 about seven for their ±0 and NaN
  // rules); with x first, a NaN still comes through.
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.33654)), f32x4.splat(88.72284));
  // n = round(x·log2 e), half to even like f32x4.nearest, by adding 1.5·2²³: the sum's low
  // mantissa bits then hold n (its bits are 0x4B400000 + n), which builds 2ⁿ below.
  const shifted = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504089)), f32x4.splat(12582912));
  const n = f32x4.sub(shifted, f32x4.splat(12582912));
  // ln2 split in two so that n·C1 is exact.
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  // 2ⁿ built in the exponent bits, n + 127 = shifted's bits − (0x4B400000 − 127); n ≤ 128 gives
  // +∞ (the clamp keeps n ≥ −126).
  const scale = i32x4.shl(i32x4.sub(shifted, i32x4.splat(0x4b400000 - 127)), 23);
  return f32x4.mul(p, scale);
}

/** The logistic sigmoid on four lanes, stable on both sides: e = e^−|x| never overflows, and σ = 1/(1 + e) for x ≥ 0, e/(1 + e) below. */
@inline
export function nabla_sigmoid4(x: v128): v128 {
  const e = nabla_exp4(f32x4.neg(f32x4.abs(x)));
  const top = v128.bitselect(f32x4.splat(1), e, f32x4.ge(x, f32x4.splat(0)));
  return f32x4.div(top, f32x4.add(f32x4.splat(1), e));
}

/** tanh on four lanes: an odd polynomial for |x| < 0.625, else 1 − 2/(e^{2|x|} + 1), sign restored. */
@inline
export function nabla_tanh4(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const e = nabla_exp4(f32x4.add(a, a));
  const big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  // copysign(big, x): the magnitude's bits with x's sign bit.
  const signed = v128.or(v128.andnot(big, f32x4.splat(-0.0)), v128.and(x, f32x4.splat(-0.0)));
  return v128.bitselect(small, signed, f32x4.lt(a, f32x4.splat(0.625)));
}

/** erf's small-argument form: S(z) with erf(x) ≈ x·S(x²) for |x| < 1 (degree 6 in z = x²). */
@inline
function erfSmall(z: v128): v128 {
  let s = f32x4.splat(8.287731179734692e-5);
  s = madd(s, z, f32x4.splat(-8.146501495502889e-4));
  s = madd(s, z, f32x4.splat(5.204140208661556e-3));
  s = madd(s, z, f32x4.splat(-2.6862038299441338e-2));
  s = madd(s, z, f32x4.splat(1.1283767968416214e-1));
  s = madd(s, z, f32x4.splat(-3.7612637877464294e-1));
  return madd(s, z, f32x4.splat(1.128379225730896));
}

/** G(v) ≈ erfc(x)·e^(x²) at v = x/4 for 1 ≤ x ≤ 4 (a [4/4] rational), so erfc(x) = e^(−x²)·G(x/4). */
@inline
function erfcScaled(v: v128): v128 {
  let p = f32x4.splat(5.876747309230268e-4);
  p = madd(p, v, f32x4.splat(6.375781536102295));
  p = madd(p, v, f32x4.splat(7.602525234222412));
  p = madd(p, v, f32x4.splat(4.047689437866211));
  p = madd(p, v, f32x4.splat(9.998481273651123e-1));
  let q = f32x4.splat(45.23171615600586);
  q = madd(q, v, f32x4.splat(53.81094741821289));
  q = madd(q, v, f32x4.splat(30.279939651489258));
  q = madd(q, v, f32x4.splat(8.557013511657715));
  q = madd(q, v, f32x4.splat(1));
  return f32x4.div(p, q);
}

/**
 * erf on four lanes: x·S(x²) for |x| < 1, else 1 − e^(−x²)·G(|x|/4) with the sign restored,
 * G ≈ erfc(x)·e^(x²) on [1, 4] (a [4/4] rational); erf(4) rounds to 1 in float32, so |x| is
 * capped there. Fit errors before rounding: 9e-9 (S, degree 6 in x²) and 1e-9 (G).
 */
@inline
export function nabla_erf4(x: v128): v128 {
  const small = f32x4.mul(x, erfSmall(f32x4.mul(x, x)));
  const a = f32x4.abs(x);
  const c = f32x4.pmin(a, f32x4.splat(4));
  const e = nabla_exp4(f32x4.neg(f32x4.mul(c, c)));
  const big = f32x4.sub(f32x4.splat(1), f32x4.mul(e, erfcScaled(f32x4.mul(c, f32x4.splat(0.25)))));
  const signed = v128.or(v128.andnot(big, f32x4.splat(-0.0)), v128.and(x, f32x4.splat(-0.0)));
  return v128.bitselect(small, signed, f32x4.lt(a, f32x4.splat(1)));
}

/** e^(−z²) at z² = `z2`, exactly 0 once it is below the smallest normal float (z² > 87.3), where nabla_exp4 would clamp. */
@inline
function gaussian4(z2: v128): v128 {
  return v128.and(nabla_exp4(f32x4.neg(z2)), f32x4.lt(z2, f32x4.splat(87.33654)));
}

/**
 * Φ(x), the standard normal CDF ½(1 + erf(z)), at z = x/√2 (z2 = z², e = e^(−z²)). From
 * z = −0.8 down it is ½erfc(|z|) = ½e^(−z²)·G(|z|/4), never 1 + erf(z): that sum would lose the
 * digits of a small Φ. G, fitted on [1, 4], stays within 1e-7 of erfc(z)·e^(z²) from |z| = 0.8
 * to 6 and within 5e-6 up to 9.4 (docs/simd-fits.md), where e underflows: there e is 0, so Φ is
 * 0 exactly and gelu(x) = x·Φ(x) is −0, never NaN; |z| is capped at 10 so G never sees ∞/∞.
 */
@inline
function normalCdf4(z: v128, z2: v128, e: v128): v128 {
  const small = madd(f32x4.mul(z, erfSmall(z2)), f32x4.splat(0.5), f32x4.splat(0.5));
  const a = f32x4.abs(z);
  const tail = f32x4.mul(f32x4.mul(e, f32x4.splat(0.5)), erfcScaled(f32x4.mul(f32x4.pmin(a, f32x4.splat(10)), f32x4.splat(0.25))));
  const big = v128.bitselect(tail, f32x4.sub(f32x4.splat(1), tail), f32x4.lt(z, f32x4.splat(0)));
  return v128.bitselect(small, big, v128.and(f32x4.ge(z, f32x4.splat(-0.8)), f32x4.lt(z, f32x4.splat(1))));
}

/** The exact GELU on four lanes: x·Φ(x) = ½x(1 + erf(x/√2)). */
@inline
export function nabla_gelu4(x: v128): v128 {
  const z = f32x4.mul(x, f32x4.splat(0.7071067811865476));
  const z2 = f32x4.mul(z, z);
  return f32x4.mul(x, normalCdf4(z, z2, gaussian4(z2)));
}

/**
 * gelu(x) on four lanes, storing gelu′(x) = Φ(x) + x·φ(x) at `derivative` too: φ(x)·√(2π) is
 * e^(−z²), z = x/√2, the e that Φ's fit already takes, so the derivative costs one multiply-add
 * more. A GEMM whose gelu's input only the derivative reads stores both instead of that input
 * (compiler/passes/fuse.ts), and the backward pass reads the derivative without an exp.
 */
@inline
export function nabla_gelu_with_derivative4(x: v128, derivative: usize): v128 {
  const z = f32x4.mul(x, f32x4.splat(0.7071067811865476));
  const z2 = f32x4.mul(z, z);
  const e = gaussian4(z2);
  const cdf = normalCdf4(z, z2, e);
  v128.store(derivative, madd(f32x4.mul(x, e), f32x4.splat(0.3989422804014327), cdf));
  return f32x4.mul(x, cdf);
}

/**
 * gelu′(x) = Φ(x) + x·φ(x) on four lanes, φ(x) = e^(−x²/2)/√(2π), given y = gelu(x) = x·Φ(x),
 * the forward pass's output: Φ = y/x, one division where Φ itself would cost erf's two fits
 * again (2.2 against 3.4 ns an element in a loop over 8,192 floats). Where |x| < 1e-30, y/x would have
 * lost its digits to underflow, and Φ is ½.
 */
@inline
export function nabla_gelu_derivative4(x: v128, y: v128): v128 {
  const e = gaussian4(f32x4.mul(f32x4.mul(x, x), f32x4.splat(0.5)));
  const cdf = v128.bitselect(f32x4.splat(0.5), f32x4.div(y, x), f32x4.lt(f32x4.abs(x), f32x4.splat(1e-30)));
  return madd(f32x4.mul(x, e), f32x4.splat(0.3989422804014327), cdf);
}

/**
 * softplus on four lanes: max(x, 0) + log1p(u), u = e^−|x| ∈ (0, 1], log1p(u) = u·R(u) with R a
 * [3/3] rational (fit error 5e-9), so a very negative x keeps its relative accuracy (≈ eˣ).
 */
@inline
export function nabla_softplus4(x: v128): v128 {
  const u = nabla_exp4(f32x4.neg(f32x4.abs(x)));
  let p = f32x4.splat(3.2819444313645363e-3);
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(2.3345214128494263e-1));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(1.0578762292861938));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(1));
  let q = f32x4.splat(7.348529994487762e-2);
  q = f32x4.add(f32x4.mul(q, u), f32x4.splat(6.790617108345032e-1));
  q = f32x4.add(f32x4.mul(q, u), f32x4.splat(1.5578759908676147));
  q = f32x4.add(f32x4.mul(q, u), f32x4.splat(1));
  return f32x4.add(f32x4.pmax(x, f32x4.splat(0)), f32x4.mul(u, f32x4.div(p, q)));
}
