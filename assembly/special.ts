// Special functions AssemblyScript's Math lacks. nabla_erf mirrors erf64 of compiler/ops/erf.ts:
// computed in f64 by the same series and continued fraction, then rounded once to f32.

export function nabla_erf(x: f32): f32 {
  const a = Math.abs(<f64>x);
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
    let t = a;
    for (let k = 40; k >= 1; k--) t = a + <f64>k / 2.0 / t;
    r = 1.0 - Math.exp(-a * a) / (1.7724538509055159 * t);
  } else {
    r = 1.0;
  }
  return <f32>(x < 0 ? -r : r);
}
