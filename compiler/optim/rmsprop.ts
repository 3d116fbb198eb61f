// RMSprop as Keras 3 writes it (ε inside the root; PyTorch adds it outside):
//   v ← ρ·v + (1 − ρ)·g²;  w ← w − η·g / √(v + ε)
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';
import type { OptimizerSpec } from './spec.ts';
import type { UpdateContext } from './state.ts';
import { SLOT, slotName } from '../../runtime/ports.ts';

export type RmspropConfig = Extract<OptimizerSpec, { type: 'rmsprop' }>;

export function rmspropUpdate(b: GraphBuilder, { name, weight, grad, lr, state }: UpdateContext, config: RmspropConfig): NodeId {
  const c = (v: number): NodeId => b.constant(v);
  const [, v] = state.carry(slotName(SLOT.velocity, name), b.node(weight).shape, (old) =>
    b.op('add', [b.op('mul', [c(config.rho), old]), b.op('mul', [c(1 - config.rho), b.op('mul', [grad, grad])])]),
  );
  const denominator = b.op('sqrt', [b.op('add', [v, c(config.epsilon)])]);
  return b.op('sub', [weight, b.op('div', [b.op('mul', [lr(), grad]), denominator])]);
}
