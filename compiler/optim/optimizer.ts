// The optimizer step as IR: the step counter and learning rate, gradient clipping and L2 decay,
// then each parameter's update rule. Returns the parameter updates; state updates accumulate
// in `state`.
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId, Port } from '../ir/types.ts';
import { adamUpdate } from './adam.ts';
import { clipByGlobalNorm, clipByValue } from './clip.ts';
import { rmspropUpdate } from './rmsprop.ts';
import { scheduledRate } from './schedule.ts';
import { sgdUpdate } from './sgd.ts';
import type { OptimizerSpec } from './spec.ts';
import type { OptimizerState, UpdateContext } from './state.ts';
import { HYPERPARAMETER, STEP } from '../../runtime/ports.ts';

function rule(b: GraphBuilder, ctx: UpdateContext, config: OptimizerSpec): NodeId {
  switch (config.type) {
    case 'sgd':
      return sgdUpdate(b, ctx, config);
    case 'rmsprop':
      return rmspropUpdate(b, ctx, config);
    case 'adam':
    case 'adamw':
      return adamUpdate(b, ctx, config);
  }
}

export function optimizerStep(
  b: GraphBuilder,
  params: readonly Port[],
  grads: ReadonlyMap<NodeId, NodeId>,
  config: OptimizerSpec,
  state: OptimizerState,
): { target: string; value: NodeId }[] {
  const { t, scheduled, clipped } = b.withLabel('optimizer', () => {
    let t: NodeId | null = null;
    if (config.schedule !== undefined || config.type === 'adam' || config.type === 'adamw') {
      [t] = state.carry(STEP, [], (old) => b.op('add', [old, b.constant(1)]));
    }
    const base = state.hyperparameter(HYPERPARAMETER.learningRate, config.learningRate);
    const scheduled = config.schedule && t !== null ? scheduledRate(b, base, config.schedule, t) : base;
    let clipped = params.map((p) => grads.get(p.id)!);
    if (config.clipValue !== undefined) clipped = clipByValue(b, clipped, config.clipValue);
    if (config.clipNorm !== undefined) clipped = clipByGlobalNorm(b, clipped, config.clipNorm);
    return { t, scheduled, clipped };
  });
  const lr = (): NodeId => scheduled;
  return params.map((p, k) => ({
    target: p.name,
    value: b.withLabel(`update(${p.name})`, () => {
      let grad = clipped[k]!;
      if (config.l2) grad = b.op('add', [grad, b.op('mul', [b.constant(config.l2), p.id])]);
      return rule(b, { name: p.name, weight: p.id, grad, lr, t, state }, config);
    }),
  }));
}
