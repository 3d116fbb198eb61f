// Compositions of primitives that losses and optimizers share (layers compose theirs in their own
// files, compiler/layers/). Nothing here has its own gradient rule: autodiff differentiates the
// primitives they are made of.
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';

/** Mean over every element, dividing by the row count of the call (partial batches included). */
export function mean(b: GraphBuilder, x: NodeId): NodeId {
  const rank = b.node(x).shape.length;
  const total = b.op('sum', [x], { axes: Array.from({ length: rank }, (_, i) => i) });
  return b.op('mul', [total, b.op('inv_count', [x])]);
}

/** min(max(x, lo), hi): exact selection, so values inside the range pass unchanged. */
export function clip(b: GraphBuilder, x: NodeId, lo: number, hi: number): NodeId {
  return b.op('minimum', [b.op('maximum', [x, b.constant(lo)]), b.constant(hi)]);
}
