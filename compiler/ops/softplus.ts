// softplus(x) = log(1 + eˣ), written max(x, 0) + log1p(e^−|x|) so that it neither overflows for
// large x nor loses digits for very negative x. Its derivative is σ(x): one primitive, not a
// composition, because log(1 + exp(x)) composed would overflow at x ≈ 89 in float32.
import { elementwise } from './elementwise.ts';

export const softplus = elementwise({
  name: 'softplus',
  arity: 1,
  f64: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  scalar: (x) => `Mathf.max(${x}, 0) + Mathf.log1p(Mathf.exp(-Mathf.abs(${x})))`,
  simd: (x) => `nabla_softplus4(${x})`,
  vjp: (b, { g, inputs: [x] }) => [b.op('mul', [g, b.op('sigmoid', [x!])])],
});
