// Learning-rate schedules as IR over the step counter t (steps already taken), so the trainer
// follows them with no help from the host. They scale the base rate `lr`, a hyperparameter the
// host may change: the schedule applies on top of whatever it holds.
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';
import type { ScheduleSpec } from './spec.ts';

export function scheduledRate(b: GraphBuilder, lr: NodeId, schedule: ScheduleSpec, t: NodeId): NodeId {
  const c = (v: number): NodeId => b.constant(v);
  switch (schedule.type) {
    case 'step': {
      // γ^k = exp(k·ln γ): exact at k = 0, and the trainer has exp but no pow.
      const k = b.op('floor', [b.op('mul', [t, c(1 / schedule.stepSize)])]);
      return b.op('mul', [lr, b.op('exp', [b.op('mul', [k, c(Math.log(schedule.gamma))])])]);
    }
    case 'exponential': {
      let p = b.op('mul', [t, c(1 / schedule.decaySteps)]);
      if (schedule.staircase) p = b.op('floor', [p]);
      return b.op('mul', [lr, b.op('exp', [b.op('mul', [p, c(Math.log(schedule.decayRate))])])]);
    }
    case 'cosine': {
      const progress = b.op('mul', [b.op('minimum', [t, c(schedule.decaySteps)]), c(Math.PI / schedule.decaySteps)]);
      const cosine = b.op('mul', [c(0.5), b.op('add', [c(1), b.op('cos', [progress])])]);
      const decayed = b.op('add', [c(schedule.alpha), b.op('mul', [c(1 - schedule.alpha), cosine])]);
      return b.op('mul', [lr, decayed]);
    }
  }
}
