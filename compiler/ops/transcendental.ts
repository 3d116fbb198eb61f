// exp and log: the building blocks of the losses' stable forms.
import { elementwise } from './elementwise.ts';

export const exp = elementwise({
  name: 'exp',
  arity: 1,
  f64: Math.exp,
  scalar: (a) => `Mathf.exp(${a})`,
  vjp: (b, { g, out }) => [b.op('mul', [g, out])],
});

export const log = elementwise({
  name: 'log',
  arity: 1,
  f64: Math.log,
  scalar: (a) => `Mathf.log(${a})`,
  vjp: (b, { g, inputs: [x] }) => [b.op('div', [g, x!])],
});
