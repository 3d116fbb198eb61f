// The exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)), as one op rather than a composition of mul, erf
// and add: one pass that stores nothing for the backward pass but its input, and, being a unary
// op with an f32x4 form, an activation the GEMM epilogue can apply (passes/fuse.ts). Its
// derivative is a second op, gelu_derivative(x, y), so the backward pass is one product
// g·gelu′(x); y is gelu(x), the forward's output, which its f32x4 form reads for Φ(x) = y/x
// (as sigmoid's and tanh's rules reuse their output).
//
// Φ(x) = ½erfc(−x/√2) in every form, never ½(1 + erf(x/√2)): that sum would lose the digits of
// a small Φ below x ≈ −1.4 (all of them by x ≈ −8.3 in float64). For x → −∞ Φ is 0 exactly, so
// gelu(x) = x·Φ(x) is −0, never NaN. The float64 forms use erfc64 (ops/erf.ts); the scalar forms
// (assembly/special.ts) the same in f64, rounded once; gelu's f32x4 form (assembly/simd_math.ts)
// erfc's fit from x = −0.8·√2 down.
import { erfc64 } from './erf.ts';
import { elementwise } from './elementwise.ts';

/** 1/√(2π): φ(x) = e^(−x²/2)/√(2π), the standard normal density. */
const INV_SQRT_2PI = 0.3989422804014327;

/** Φ(x), the standard normal CDF. */
function normalCdf64(x: number): number {
  return 0.5 * erfc64(-x * Math.SQRT1_2);
}

export function gelu64(x: number): number {
  return x * normalCdf64(x);
}

/** gelu′(x) = Φ(x) + x·φ(x). */
export function geluDerivative64(x: number): number {
  return normalCdf64(x) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI;
}

export const gelu = elementwise({
  name: 'gelu',
  arity: 1,
  f64: gelu64,
  scalar: (x) => `nabla_gelu(${x})`,
  simd: (x) => `nabla_gelu4(${x})`,
  // In a GEMM epilogue, gelu′ too, from the same e^(−x²/2) (passes/fuse.ts).
  withDerivative: { op: 'gelu_derivative', simd: (x, dst) => `nabla_gelu_with_derivative4(${x}, ${dst})` },
  vjp: (b, { g, inputs: [x], out }) => [b.op('mul', [g, b.op('gelu_derivative', [x!, out])])],
});

/**
 * gelu′(x), given y = gelu(x). Its value is a function of x alone (the float64 and scalar forms
 * read only x); y lets the f32x4 form take Φ(x) = y/x with one division instead of erf's fits
 * again (about two thirds of the backward pass's cost per element). So y gets no gradient.
 */
export const gelu_derivative = elementwise({
  name: 'gelu_derivative',
  arity: 2,
  f64: (x) => geluDerivative64(x),
  scalar: (x) => `nabla_gelu_derivative(${x})`,
  simd: (x, y) => `nabla_gelu_derivative4(${x}, ${y})`,
  // gelu″(x) = 2φ(x) + x·φ′(x) = φ(x)·(2 − x²), from existing ops, so a second derivative works too.
  vjp: (b, { g, inputs: [x] }) => {
    const square = b.op('mul', [x!, x!]);
    const density = b.op('mul', [b.constant(INV_SQRT_2PI), b.op('exp', [b.op('neg', [b.op('mul', [b.constant(0.5), square])])])]);
    return [b.op('mul', [g, b.op('mul', [density, b.op('sub', [b.constant(2), square])])]), null];
  },
});
