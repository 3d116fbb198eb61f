// nabla's optimizer step as a torch.optim.Optimizer in the generated file: the update rule of the
// spec's optimizer (Keras's forms, compiler/optim/), its learning-rate schedule over the steps
// taken, gradient clipping and L2 decay in nabla's order. torch.optim's own Adam and RMSprop place
// ε differently, so the rule is written out. The step count lives in the parameter group, so the
// optimizer's state_dict carries it.
import type { OptimizerSpec, ScheduleSpec } from '../../optim/spec.ts';
import { py } from '../../layers/interop/torch.ts';

function schedule(lr: number, s: ScheduleSpec | undefined): string {
  if (s === undefined) return `${py(lr)}`;
  switch (s.type) {
    case 'step':
      return `${py(lr)} * ${py(s.gamma)} ** (t // ${s.stepSize})`;
    case 'exponential':
      return `${py(lr)} * ${py(s.decayRate)} ** (${s.staircase ? `(t // ${s.decaySteps})` : `(t / ${s.decaySteps})`})`;
    case 'cosine':
      return `${py(lr)} * (${py(s.alpha)} + (1 - ${py(s.alpha)}) * 0.5 * (1 + math.cos(math.pi * min(t, ${s.decaySteps}) / ${s.decaySteps})))`;
  }
}

function update(o: OptimizerSpec): string[] {
  switch (o.type) {
    case 'sgd': {
      const mu = o.momentum ?? 0;
      if (mu === 0) return ['p.sub_(lr * g)'];
      return [
        `v = self.state[p].setdefault('momentum', torch.zeros_like(p))`,
        `v.mul_(${py(mu)}).sub_(lr * g)`,
        o.nesterov ? `p.add_(${py(mu)} * v - lr * g)` : 'p.add_(v)',
      ];
    }
    case 'rmsprop':
      return [
        `v = self.state[p].setdefault('velocity', torch.zeros_like(p))`,
        `v.mul_(${py(o.rho)}).add_((1 - ${py(o.rho)}) * g * g)`,
        `p.sub_(lr * g / torch.sqrt(v + ${py(o.epsilon)}))`,
      ];
    case 'adam':
    case 'adamw':
      return [
        `m = self.state[p].setdefault('m', torch.zeros_like(p))`,
        `v = self.state[p].setdefault('v', torch.zeros_like(p))`,
        `m.add_((g - m) * (1 - ${py(o.beta1)}))`,
        `v.add_((g * g - v) * (1 - ${py(o.beta2)}))`,
        `alpha = lr * math.sqrt(1 - ${py(o.beta2)} ** (t + 1)) / (1 - ${py(o.beta1)} ** (t + 1))`,
        ...(o.type === 'adamw' && o.weightDecay > 0 ? [`p.sub_(lr * ${py(o.weightDecay)} * p)`] : []),
        `p.sub_(alpha * m / (torch.sqrt(v) + ${py(o.epsilon)}))`,
      ];
  }
}

/** The Python source of `learning_rate(t)` and `class Optimizer`. */
export function torchOptimizer(o: OptimizerSpec): string {
  const clip: string[] = [];
  if (o.clipValue !== undefined) clip.push(`grads = [g.clamp(-${py(o.clipValue)}, ${py(o.clipValue)}) for g in grads]`);
  if (o.clipNorm !== undefined) {
    clip.push(
      `norm = torch.sqrt(sum((g * g).sum() for g in grads))`,
      `grads = [g * (${py(o.clipNorm)} / torch.clamp(norm, min=${py(o.clipNorm)})) for g in grads]`,
    );
  }
  if (o.l2) clip.push(`grads = [g + ${py(o.l2)} * p for g, p in zip(grads, params)]`);
  const indent = (lines: readonly string[], n: number): string => lines.map((l) => ' '.repeat(n) + l).join('\n');
  return `def learning_rate(t):
    """The learning rate of the step after t steps taken: the spec's ${o.schedule ? `${o.schedule.type} schedule` : 'constant rate'}."""
    return ${schedule(o.learningRate, o.schedule)}


class Optimizer(torch.optim.Optimizer):
    """nabla's ${o.type} step as the spec gives it: ${JSON.stringify(o)}."""

    def __init__(self, params):
        super().__init__(params, {'t': 0})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            t = group['t']
            lr = learning_rate(t)
            params = [p for p in group['params'] if p.grad is not None]
            grads = [p.grad for p in params]
${indent(clip, 12)}${clip.length ? '\n' : ''}            for p, g in zip(params, grads):
${indent(update(o), 16)}
            group['t'] = t + 1
        return loss
`;
}
