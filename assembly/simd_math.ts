// Transcendental functions on f32x4, so elementwise loops over them stay vectorised. The
// polynomials are Cephes's single-precision ones (expf, tanhf): about 2 ulp over the range.

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
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
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
