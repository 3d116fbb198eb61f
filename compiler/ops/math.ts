// sqrt, floor, cos and sin: what optimizers and learning-rate schedules need beyond the
// arithmetic (RMSprop's and Adam's √v, the global gradient norm, step decay's ⌊t/k⌋, cosine
// decay). Each is differentiable where it is smooth, like every op, though a schedule's
// gradient is never asked for.
import { elementwise } from './elementwise.ts';

export const sqrt = elementwise({
  name: 'sqrt',
  arity: 1,
  f64: Math.sqrt,
  scalar: (x) => `Mathf.sqrt(${x})`,
  simd: (x) => `f32x4.sqrt(${x})`,
  vjp: (b, { g, out }) => [b.op('div', [g, b.op('mul', [b.constant(2), out])])],
});

/** Piecewise constant: no gradient, like step. */
export const floor = elementwise({
  name: 'floor',
  arity: 1,
  f64: Math.floor,
  scalar: (x) => `Mathf.floor(${x})`,
  simd: (x) => `f32x4.floor(${x})`,
  vjp: () => [null],
});

export const cos = elementwise({
  name: 'cos',
  arity: 1,
  f64: Math.cos,
  scalar: (x) => `Mathf.cos(${x})`,
  vjp: (b, { g, inputs: [x] }) => [b.op('neg', [b.op('mul', [g, b.op('sin', [x!])])])],
});

export const sin = elementwise({
  name: 'sin',
  arity: 1,
  f64: Math.sin,
  scalar: (x) => `Mathf.sin(${x})`,
  vjp: (b, { g, inputs: [x] }) => [b.op('mul', [g, b.op('cos', [x!])])],
});
