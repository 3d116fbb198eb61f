// Stochastic gradient descent, with Keras's momentum and Nesterov forms:
//   plain     w ← w − η·g
//   momentum  v ← μ·v − η·g;  w ← w + v
//   Nesterov  v ← μ·v − η·g;  w ← w + μ·v − η·g
// (PyTorch keeps v' = μ·v' + g and steps by η·v'; the two agree for a constant η.)
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';
import type { OptimizerSpec } from './spec.ts';
import type { UpdateContext } from './state.ts';
import { SLOT, slotName } from '../../runtime/ports.ts';

export type SgdConfig = Extract<OptimizerSpec, { type: 'sgd' }>;

export function sgdUpdate(b: GraphBuilder, { name, weight, grad, lr, state }: UpdateContext, config: SgdConfig): NodeId {
  const step = b.op('mul', [lr(), grad]);
  const momentum = config.momentum ?? 0;
  if (momentum === 0) return b.op('sub', [weight, step]);
  const [, v] = state.carry(slotName(SLOT.momentum, name), b.node(weight).shape, (old) => b.op('sub', [b.op('mul', [b.constant(momentum), old]), step]));
  if (!config.nesterov) return b.op('add', [weight, v]);
  return b.op('add', [weight, b.op('sub', [b.op('mul', [b.constant(momentum), v]), step])]);
}
