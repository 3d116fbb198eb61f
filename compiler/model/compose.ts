// Layers and losses composed from primitives. Nothing here has its own gradient
// rule: autodiff differentiates the primitives they are made of.
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';

/** Mean over every element, dividing by the row count of the call (partial batches included). */
export function mean(b: GraphBuilder, x: NodeId): NodeId {
  const rank = b.node(x).shape.length;
  const total = b.op('sum', [x], { axes: Array.from({ length: rank }, (_, i) => i) });
  return b.op('mul', [total, b.op('inv_count', [x])]);
}

/** z = a·Wᵀ + b for a of [N, in], W of [units, in] (PyTorch's nn.Linear layout). */
export function affine(b: GraphBuilder, a: NodeId, weight: NodeId, bias: NodeId | null): NodeId {
  const z = b.op('matmul', [a, weight], { transB: true });
  return bias === null ? z : b.op('add', [z, bias]);
}

/** min(max(x, lo), hi): exact selection, so values inside the range pass unchanged. */
export function clip(b: GraphBuilder, x: NodeId, lo: number, hi: number): NodeId {
  return b.op('minimum', [b.op('maximum', [x, b.constant(lo)]), b.constant(hi)]);
}

/**
 * Layer normalization over the last axis of [N, C]: (x − μ) / √(σ² + ε), then ·γ + β where given.
 * σ² is the biased variance, as Keras and PyTorch use. Autodiff differentiates through μ and σ².
 */
export function layerNorm(b: GraphBuilder, x: NodeId, gamma: NodeId | null, beta: NodeId | null, epsilon: number): NodeId {
  const width = b.node(x).shape[1] as number;
  const rowMean = (t: NodeId): NodeId => b.op('mul', [b.op('sum', [t], { axes: [1], keepDims: true }), b.constant(1 / width)]);
  const centered = b.op('sub', [x, rowMean(x)]);
  const variance = rowMean(b.op('mul', [centered, centered]));
  let y = b.op('div', [centered, b.op('sqrt', [b.op('add', [variance, b.constant(epsilon)])])]);
  if (gamma !== null) y = b.op('mul', [y, gamma]);
  if (beta !== null) y = b.op('add', [y, beta]);
  return y;
}
