// maximum, minimum and abs: the exact building blocks of clipping (clip = min(max(x, lo), hi)),
// leaky_relu (max(x, αx)), huber and mae. Composing them from relu would round (ε + relu(p − ε)
// is not p), these select an operand and so are exact.
//
// Ties: the first operand takes the whole cotangent where a = b, as TensorFlow does; so a value
// clipped exactly at a bound still passes its gradient, as tf.clip_by_value does.
import { elementwise } from './elementwise.ts';

export const maximum = elementwise({
  name: 'maximum',
  arity: 2,
  f64: (a, b) => (a >= b ? a : b),
  scalar: (a, b) => `Mathf.max(${a}, ${b})`,
  simd: (a, b) => `f32x4.max(${a}, ${b})`,
  // a wins where a ≥ b, i.e. where step(b − a) = 0.
  vjp: (b, { g, inputs: [x, y] }) => {
    const bWins = b.op('step', [b.op('sub', [y!, x!])]);
    return [b.op('mul', [g, b.op('sub', [b.constant(1), bWins])]), b.op('mul', [g, bWins])];
  },
});

export const minimum = elementwise({
  name: 'minimum',
  arity: 2,
  f64: (a, b) => (a <= b ? a : b),
  scalar: (a, b) => `Mathf.min(${a}, ${b})`,
  simd: (a, b) => `f32x4.min(${a}, ${b})`,
  // a wins where a ≤ b, i.e. where step(a − b) = 0.
  vjp: (b, { g, inputs: [x, y] }) => {
    const bWins = b.op('step', [b.op('sub', [x!, y!])]);
    return [b.op('mul', [g, b.op('sub', [b.constant(1), bWins])]), b.op('mul', [g, bWins])];
  },
});

/** |x|; its subgradient at 0 is 0 (sign(0) = 0), as in PyTorch and TensorFlow. */
export const abs = elementwise({
  name: 'abs',
  arity: 1,
  f64: Math.abs,
  scalar: (x) => `Mathf.abs(${x})`,
  simd: (x) => `f32x4.abs(${x})`,
  vjp: (b, { g, inputs: [x] }) => [b.op('mul', [g, b.op('sub', [b.op('step', [x!]), b.op('step', [b.op('neg', [x!])])])])],
});
