// The four arithmetic ops and negation, each with its local derivative beside it.
import { elementwise } from './elementwise.ts';

export const add = elementwise({
  name: 'add',
  arity: 2,
  f64: (a, b) => a + b,
  scalar: (a, b) => `${a} + ${b}`,
  simd: (a, b) => `f32x4.add(${a}, ${b})`,
  vjp: (_b, { g }) => [g, g],
});

export const sub = elementwise({
  name: 'sub',
  arity: 2,
  f64: (a, b) => a - b,
  scalar: (a, b) => `${a} - ${b}`,
  simd: (a, b) => `f32x4.sub(${a}, ${b})`,
  vjp: (b, { g }) => [g, b.op('neg', [g])],
});

export const mul = elementwise({
  name: 'mul',
  arity: 2,
  f64: (a, b) => a * b,
  scalar: (a, b) => `${a} * ${b}`,
  simd: (a, b) => `f32x4.mul(${a}, ${b})`,
  vjp: (b, { g, inputs: [x, y] }) => [b.op('mul', [g, y!]), b.op('mul', [g, x!])],
});

export const div = elementwise({
  name: 'div',
  arity: 2,
  f64: (a, b) => a / b,
  scalar: (a, b) => `${a} / ${b}`,
  simd: (a, b) => `f32x4.div(${a}, ${b})`,
  // d(x/y) = dx/y − (x/y)·dy/y
  vjp: (b, { g, out, inputs: [, y] }) => [b.op('div', [g, y!]), b.op('neg', [b.op('div', [b.op('mul', [g, out]), y!])])],
});

export const neg = elementwise({
  name: 'neg',
  arity: 1,
  f64: (a) => -a,
  scalar: (a) => `-${a}`,
  simd: (a) => `f32x4.neg(${a})`,
  vjp: (b, { g }) => [b.op('neg', [g])],
});
