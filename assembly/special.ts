// Special functions AssemblyScript's Math lacks, mirroring compiler/ops/erf.ts and gelu.ts:
// computed in f64 by the same series and continued fraction, each rounded once to f32.

/** erfc(a) for a ≥ 2.5 by Laplace's continued fraction, as erfcContinuedFraction of compiler/ops/erf.ts. */
function erfcContinuedFraction(a: f64): f64 {
  let t = a;
  for (let k = 40; k >= 1; k--) t = a + <f64>k / 2.0 / t;
  return Math.exp(-a * a) / (1.7724538509055159 * t);
}

function erf64(x: f64): f64 {
  const a = Math.abs(x);
  let r: f64;
  if (a < 2.5) {
    const a2 = a * a;
    let term = a;
    let sum = a;
    for (let k = 1; k < 100; k++) {
      term *= -a2 / <f64>k;
      const t = term / <f64>(2 * k + 1);
      sum += t;
      if (Math.abs(t) <= 1e-17 * sum) break;
    }
    r = sum * 1.1283791670955126;
  } else if (a < 6) {
    r = 1.0 - erfcContinuedFraction(a);
  } else {
    r = 1.0;
  }
  return x < 0 ? -r : r;
}

/** Φ(x) = ½erfc(−x/√2), as normalCdf64 of compiler/ops/gelu.ts. */
function normalCdf64(x: f64): f64 {
  const a = -x * 0.7071067811865476;
  return 0.5 * (a < 2.5 ? 1.0 - erf64(a) : erfcContinuedFraction(a));
}

export function nabla_erf(x: f32): f32 {
  return <f32>erf64(<f64>x);
}

/** The exact GELU, x·Φ(x). */
export function nabla_gelu(x: f32): f32 {
  const v = <f64>x;
  return <f32>(v * normalCdf64(v));
}

/** gelu′(x) = Φ(x) + x·e^(−x²/2)/√(2π). */
export function nabla_gelu_derivative(x: f32): f32 {
  const v = <f64>x;
  return <f32>(normalCdf64(v) + v * Math.exp(-0.5 * v * v) * 0.3989422804014327);
}
