// Adam and AdamW as Keras 3 writes them, with k = t + 1 the step being taken:
//   m ← m + (g − m)(1 − β₁);  v ← v + (g² − v)(1 − β₂)
//   α = η·√(1 − β₂ᵏ) / (1 − β₁ᵏ);  w ← w − α·m / (√v + ε)
// (ε is added to √v, not to the bias-corrected √v̂ as in PyTorch: they differ by √(1 − β₂ᵏ) in ε.)
// AdamW first decays the weight, decoupled from the gradient: w ← w − η·λ·w (Keras, PyTorch).
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';
import type { OptimizerSpec } from './spec.ts';
import type { UpdateContext } from './state.ts';
import { HYPERPARAMETER, SLOT, slotName } from '../../runtime/ports.ts';

export type AdamConfig = Extract<OptimizerSpec, { type: 'adam' | 'adamw' }>;

export function adamUpdate(b: GraphBuilder, { name, weight, grad, lr, t, state }: UpdateContext, config: AdamConfig): NodeId {
  if (t === null) throw new Error('internal: adam needs the step counter');
  const c = (v: number): NodeId => b.constant(v);
  const shape = b.node(weight).shape;
  const [, m] = state.carry(slotName(SLOT.firstMoment, name), shape, (old) => b.op('add', [old, b.op('mul', [b.op('sub', [grad, old]), c(1 - config.beta1)])]));
  const [, v] = state.carry(slotName(SLOT.secondMoment, name), shape, (old) =>
    b.op('add', [old, b.op('mul', [b.op('sub', [b.op('mul', [grad, grad]), old]), c(1 - config.beta2)])]),
  );
  // βᵏ = exp(k·ln β): the trainer has exp but no pow.
  const k = b.op('add', [t, c(1)]);
  const power = (beta: number): NodeId => b.op('exp', [b.op('mul', [k, c(Math.log(beta))])]);
  const correction = b.op('div', [b.op('sqrt', [b.op('sub', [c(1), power(config.beta2)])]), b.op('sub', [c(1), power(config.beta1)])]);
  const alpha = b.op('mul', [lr(), correction]);
  const step = b.op('div', [b.op('mul', [alpha, m]), b.op('add', [b.op('sqrt', [v]), c(config.epsilon)])]);
  // The decay rate is a hyperparameter the host may change, unless the spec turned decay off.
  const decayed =
    config.type === 'adamw' && config.weightDecay > 0
      ? b.op('sub', [weight, b.op('mul', [b.op('mul', [lr(), state.hyperparameter(HYPERPARAMETER.weightDecay, config.weightDecay)]), weight])])
      : weight;
  return b.op('sub', [decayed, step]);
}
