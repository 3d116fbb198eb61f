// Binary cross-entropy from logits, per element: −[y·log σ(z) + (1−y)·log(1−σ(z))], written in
// the form that neither overflows nor loses digits: max(z,0) − z·y + log(1 + e^(−|z|)).
// Its gradient in z is σ(z) − y, which is why it is one primitive and not a composition.
import { elementwise } from './elementwise.ts';

export const bce_logits = elementwise({
  name: 'bce_logits',
  arity: 2,
  f64: (z, y) => Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z))),
  scalar: (z, y) => `Mathf.max(${z}, 0) - ${z} * ${y} + Mathf.log1p(Mathf.exp(-Mathf.abs(${z})))`,
  vjp: (b, { g, inputs: [z, y] }) => [
    b.op('mul', [g, b.op('sub', [b.op('sigmoid', [z!]), y!])]),
    b.op('neg', [b.op('mul', [g, z!])]),
  ],
});
