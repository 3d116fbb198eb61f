// nabla's losses as Python functions of an output's value, its pre-activation and its targets,
// computed as compiler/model/losses.ts computes them: cross-entropies from the pre-activation of
// a sigmoid/softmax output (or the output itself with fromLogits), clipped probabilities otherwise.
import { PROBABILITY_EPSILON, type LossSpec } from '../../model/losses.ts';
import { py } from '../../layers/interop/torch.ts';

/** The Python body lines of `def <name>(value, pre, y)` returning the loss as a scalar tensor. */
export function torchLoss(loss: LossSpec, activation: string): string[] {
  const eps = py(PROBABILITY_EPSILON);
  const rows = (perRow: string): string => (loss.reduction === 'mean' ? `(${perRow}).mean()` : `(${perRow}).sum()`);
  // Elementwise losses: the per-sample mean over the outputs, then the rows' mean or sum.
  const elements = (e: string): string => (loss.reduction === 'mean' ? `(${e}).mean()` : `(${e}).sum() / value.shape[-1]`);
  const logits = (fused: 'sigmoid' | 'softmax'): string | null => (loss.type !== 'mse' && loss.type !== 'mae' && loss.type !== 'huber' && loss.fromLogits ? 'value' : activation === fused ? 'pre' : null);
  let value: string;
  switch (loss.type) {
    case 'mse':
      value = elements('(value - y) ** 2');
      break;
    case 'mae':
      value = elements('(value - y).abs()');
      break;
    case 'huber': {
      const d = py(loss.delta);
      value = elements(`0.5 * torch.clamp((value - y).abs(), max=${d}) ** 2 + ${d} * ((value - y).abs() - torch.clamp((value - y).abs(), max=${d}))`);
      break;
    }
    case 'binary_crossentropy': {
      const z = logits('sigmoid');
      value = z !== null ? elements(`F.binary_cross_entropy_with_logits(${z}, y, reduction='none')`) : elements(`-(y * torch.log(value.clamp(${eps}, 1 - ${eps})) + (1 - y) * torch.log(1 - value.clamp(${eps}, 1 - ${eps})))`);
      break;
    }
    case 'categorical_crossentropy': {
      const z = logits('softmax');
      const logp = z !== null ? `F.log_softmax(${z}, dim=-1)` : `torch.log((value / value.sum(-1, keepdim=True)).clamp(${eps}, 1 - ${eps}))`;
      value = rows(`-(y * ${logp}).sum(-1)`);
      break;
    }
    case 'sparse_categorical_crossentropy': {
      const z = logits('softmax') ?? 'pre';
      // y holds a class id per row, or per position of a [N, steps, classes] output.
      value = rows(`-F.log_softmax(${z}, dim=-1).gather(-1, y.long().reshape(*${z}.shape[:-1], 1)).squeeze(-1)`);
      break;
    }
  }
  return [`return ${loss.weight === 1 ? value : `${py(loss.weight)} * ${value}`}`];
}
