// Plain stochastic gradient descent: w ← w − η·∇w.
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';

export interface SgdConfig {
  readonly type: 'sgd';
  readonly learningRate: number;
}

export function sgdUpdate(b: GraphBuilder, weight: NodeId, gradient: NodeId, config: SgdConfig): NodeId {
  return b.op('sub', [weight, b.op('mul', [b.constant(config.learningRate), gradient])]);
}
