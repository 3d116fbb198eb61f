// exp and log: the building blocks of the losses' stable forms.
import { elementwise } from './elementwise.ts';

export const exp = elementwise({
  name: 'exp',
  arity: 1,
  f64: Math.exp,
  scalar: (a) => `Mathf.exp(${a})`,
  // Cephes's expf on f32x4 (assembly/simd_math.ts), within a few ulp of the scalar form; below
  // −87.3 it gives the smallest normal float where Mathf.exp gives a subnormal or 0.
  simd: (a) => `nabla_exp4(${a})`,
  vjp: (b, { g, out }) => [b.op('mul', [g, out])],
});

export const log = elementwise({
  name: 'log',
  arity: 1,
  f64: Math.log,
  scalar: (a) => `Mathf.log(${a})`,
  vjp: (b, { g, inputs: [x] }) => [b.op('div', [g, x!])],
});
