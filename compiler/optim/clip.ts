// Gradient clipping, before the optimizer sees the gradients (and before L2 decay is added).
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';
import { clip } from '../model/compose.ts';

/** Every element into [−c, c] (Keras's clipvalue). */
export function clipByValue(b: GraphBuilder, grads: readonly NodeId[], c: number): NodeId[] {
  return grads.map((g) => clip(b, g, -c, c));
}

/**
 * All gradients scaled together by c / max(‖g‖, c), ‖g‖ the L2 norm over every element of every
 * gradient (Keras's global_clipnorm, tf.clip_by_global_norm): unchanged when the norm is ≤ c.
 */
export function clipByGlobalNorm(b: GraphBuilder, grads: readonly NodeId[], c: number): NodeId[] {
  const squares = grads.map((g) => b.op('sum', [b.op('mul', [g, g])], { axes: b.node(g).shape.map((_, i) => i) }));
  const norm = b.op('sqrt', [squares.reduce((acc, s) => b.op('add', [acc, s]))]);
  const scale = b.op('div', [b.constant(c), b.op('maximum', [norm, b.constant(c)])]);
  return grads.map((g) => b.op('mul', [g, scale]));
}
