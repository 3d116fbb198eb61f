// Activation primitives. Each derivative is written through the op's own output where that
// is cheaper and better conditioned (σ' = σ(1−σ), tanh' = 1−tanh²).
import { elementwise } from './elementwise.ts';

export const sigmoid = elementwise({
  name: 'sigmoid',
  arity: 1,
  // Stable on both sides: exp of a non-positive number never overflows.
  f64: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  scalar: (x) => `nabla_sigmoid(${x})`,
  simd: (x) => `nabla_sigmoid4(${x})`,
  vjp: (b, { g, out }) => [b.op('mul', [g, b.op('mul', [out, b.op('sub', [b.constant(1), out])])])],
});

export const tanh = elementwise({
  name: 'tanh',
  arity: 1,
  f64: Math.tanh,
  scalar: (x) => `Mathf.tanh(${x})`,
  // Cephes's tanhf on f32x4 (assembly/simd_math.ts), within a few ulp of the scalar form.
  simd: (x) => `nabla_tanh4(${x})`,
  vjp: (b, { g, out }) => [b.op('mul', [g, b.op('sub', [b.constant(1), b.op('mul', [out, out])])])],
});

export const relu = elementwise({
  name: 'relu',
  arity: 1,
  f64: (x) => (x > 0 ? x : 0),
  scalar: (x) => `Mathf.max(${x}, 0)`,
  // pmax: one instruction (f32x4.max costs about seven for its ±0 and NaN rules); x < 0 ? 0 : x
  // still passes a NaN on, for the guard to see.
  simd: (x) => `f32x4.pmax(${x}, f32x4.splat(0))`,
  // The subgradient at 0 is taken as 0, as in PyTorch and TensorFlow.
  vjp: (b, { g, inputs: [x] }) => [b.op('mul', [g, b.op('step', [x!])])],
});

/** Heaviside step, 1 where x > 0: the derivative mask of relu. Piecewise constant: no gradient. */
export const step = elementwise({
  name: 'step',
  arity: 1,
  f64: (x) => (x > 0 ? 1 : 0),
  scalar: (x) => `<f32>(${x} > 0)`,
  simd: (x) => `v128.and(f32x4.gt(${x}, f32x4.splat(0)), f32x4.splat(1))`,
  vjp: () => [null],
});
