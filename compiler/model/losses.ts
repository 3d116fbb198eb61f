// The loss vocabulary: its spec schema and its lowering to IR, one case per loss.
//
// Every loss is a per-sample value reduced over the rows of the call, as Keras does:
// `mean` (Keras's sum_over_batch_size, the default) divides by the n rows given, so a partial
// batch is averaged correctly; `sum` adds the per-sample losses. Elementwise losses (mse, mae,
// huber, binary cross-entropy) take the per-sample value as the mean over the outputs.
//
// An output of [steps, units] per sample (a language model's next-token scores at every
// position) has a loss per position, as Keras computes on a [N, steps, units] output: the labels
// are [steps] class ids per sample (sparse categorical cross-entropy) or [steps, units] targets,
// each position's loss is taken over its units, and `mean` averages over the n·steps positions
// given, `sum` adds them.
//
// Cross-entropies on a sigmoid/softmax output are computed from its pre-activation (same value,
// no log(0)). On any other output they take the values as probabilities and clip them to
// [ε, 1 − ε], ε = 1e-7, as Keras does; categorical cross-entropy first divides each row by its
// sum, as Keras does.
import { z } from 'zod';
import type { GraphBuilder } from '../ir/builder.ts';
import { BATCH, type NodeId } from '../ir/types.ts';
import { clip, mean } from './compose.ts';
import type { TensorInfo } from './lower.ts';
import { SpecError } from './spec_error.ts';
import { LABELS } from '../../runtime/ports.ts';
import { f32NonNegative, f32Positive } from './numbers.ts';
import { byNameOrObject } from './options.ts';

/** Keras's backend epsilon: the clip of probabilities. */
export const PROBABILITY_EPSILON = 1e-7;

const lossWeight = f32NonNegative.default(1);
const reduction = z.enum(['mean', 'sum'], { error: 'expected "mean" or "sum"' }).default('mean');
const fromLogits = z.boolean().default(false);

export const lossNames = ['mse', 'mae', 'huber', 'binary_crossentropy', 'categorical_crossentropy', 'sparse_categorical_crossentropy'] as const;

const LossObject = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('mse'), weight: lossWeight, reduction }),
    z.strictObject({ type: z.literal('mae'), weight: lossWeight, reduction }),
    z.strictObject({
      type: z.literal('huber'),
      weight: lossWeight,
      reduction,
      delta: f32Positive.default(1),
    }),
    z.strictObject({ type: z.literal('binary_crossentropy'), weight: lossWeight, reduction, fromLogits }),
    z.strictObject({ type: z.literal('categorical_crossentropy'), weight: lossWeight, reduction, fromLogits }),
    z.strictObject({ type: z.literal('sparse_categorical_crossentropy'), weight: lossWeight, reduction, fromLogits }),
  ],
  {
    error: (iss) => {
      if (typeof iss.input !== 'object' || iss.input === null) return `expected a loss name (one of ${lossNames.join(', ')}) or an object { type, … }, got ${JSON.stringify(iss.input)}`;
      return `unknown loss ${JSON.stringify((iss.input as { type?: unknown }).type)}; expected one of ${lossNames.join(', ')}`;
    },
  },
);
/** A loss: its object, or its name alone (as Keras's compile takes it), every option at its default. */
export const Loss = byNameOrObject(LossObject);
export type LossSpec = z.output<typeof LossObject>;
/** What a spec may give for a loss. */
export type LossInput = (typeof lossNames)[number] | z.input<typeof LossObject>;

/** The model's last layer, as a loss sees it. */
export interface Head {
  /** The last layer's output. */
  readonly output: NodeId;
  /** Its pre-activation, for losses that fuse the final activation. */
  readonly logits: NodeId;
  readonly activation: string;
  readonly layer: string;
}

/**
 * The cross-entropy's input: the pre-activation when the last layer applies `fused` (or the
 * output itself with fromLogits), else null: the output is to be read as probabilities.
 */
function logitsOf(loss: Extract<LossSpec, { fromLogits: boolean }>, head: Head, fused: 'sigmoid' | 'softmax'): NodeId | null {
  if (loss.fromLogits) {
    if (head.activation !== 'linear') {
      throw new SpecError(
        `invalid model spec:\n  loss.fromLogits: the last layer '${head.layer}' applies ${head.activation}, so its output is not logits; use activation 'linear' or fromLogits: false`,
      );
    }
    return head.output;
  }
  return head.activation === fused ? head.logits : null;
}

/** Every axis of a node: the sum over all of it. */
const allAxes = (b: GraphBuilder, x: NodeId): number[] => b.node(x).shape.map((_, i) => i);

/** Sum of a per-element loss [N, (steps,) units] reduced as the spec says. */
function reduceElements(b: GraphBuilder, elements: NodeId, loss: LossSpec, units: number): NodeId {
  if (loss.reduction === 'mean') return mean(b, elements);
  // Σ over rows (and positions) of the mean over outputs.
  return b.op('mul', [b.op('sum', [elements], { axes: allAxes(b, elements) }), b.constant(1 / units)]);
}

/** Per-row (per-position) losses [N, (steps)] reduced as the spec says. */
function reduceRows(b: GraphBuilder, rows: NodeId, loss: LossSpec): NodeId {
  return loss.reduction === 'mean' ? mean(b, rows) : b.op('sum', [rows], { axes: allAxes(b, rows) });
}

function elementwiseLoss(b: GraphBuilder, loss: LossSpec, head: Head, y: NodeId): NodeId {
  switch (loss.type) {
    case 'mse': {
      const d = b.op('sub', [head.output, y]);
      return b.op('mul', [d, d]);
    }
    case 'mae':
      // |ŷ − y|; the subgradient at ŷ = y is 0.
      return b.op('abs', [b.op('sub', [head.output, y])]);
    case 'huber': {
      // ½a² for a = |ŷ − y| ≤ δ, δ(a − ½δ) above; written ½q² + δ(a − q), q = min(a, δ).
      const a = b.op('abs', [b.op('sub', [head.output, y])]);
      const q = b.op('minimum', [a, b.constant(loss.delta)]);
      return b.op('add', [b.op('mul', [b.constant(0.5), b.op('mul', [q, q])]), b.op('mul', [b.constant(loss.delta), b.op('sub', [a, q])])]);
    }
    case 'binary_crossentropy': {
      const z = logitsOf(loss, head, 'sigmoid');
      if (z !== null) return b.op('bce_logits', [z, y]);
      const p = clip(b, head.output, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
      const one = b.constant(1);
      const ll = b.op('add', [b.op('mul', [y, b.op('log', [p])]), b.op('mul', [b.op('sub', [one, y]), b.op('log', [b.op('sub', [one, p])])])]);
      return b.op('neg', [ll]);
    }
    default:
      throw new Error(`internal: ${loss.type} is not an elementwise loss`);
  }
}

export interface BuiltLoss {
  readonly loss: NodeId;
  readonly labels: TensorInfo;
  /** The targets' input node. */
  readonly labelsNode: NodeId;
}

/**
 * `labelsNode`: the labels input an earlier pass created, shared so the host feeds one buffer.
 * `labelsName`: the targets' input name, `labels` or `labels:<output>` in a multi-output model.
 */
export function buildLoss(b: GraphBuilder, loss: LossSpec, head: Head, units: number, labelsNode?: NodeId, labelsName: string = LABELS): BuiltLoss {
  return b.withLabel(`loss(${loss.type})`, () => {
    let value: NodeId;
    let labels: TensorInfo;
    let y: NodeId;
    // [N, units] or, per position, [N, steps, units].
    const outputShape = b.node(head.output).shape;
    const classAxis = outputShape.length - 1;
    const positions = outputShape.slice(1, -1) as number[];
    switch (loss.type) {
      case 'sparse_categorical_crossentropy': {
        labels = { name: labelsName, shape: [BATCH, ...positions], dtype: 'i32' };
        y = labelsNode ?? b.input(labelsName, labels.shape, 'i32');
        const z = logitsOf(loss, head, 'softmax');
        if (z === null) {
          throw new SpecError(
            `invalid model spec:\n  loss: ${loss.type} on probabilities needs activation 'softmax' on the last layer '${head.layer}' (it has '${head.activation}'), or fromLogits: true with a linear last layer`,
          );
        }
        const logp = b.op('log_softmax', [z]);
        value = b.op('neg', [reduceRows(b, b.op('gather_label', [logp, y]), loss)]);
        break;
      }
      case 'categorical_crossentropy': {
        labels = { name: labelsName, shape: [BATCH, ...positions, units], dtype: 'f32' };
        y = labelsNode ?? b.input(labelsName, labels.shape, 'f32');
        const z = logitsOf(loss, head, 'softmax');
        let logp: NodeId;
        if (z !== null) {
          logp = b.op('log_softmax', [z]);
        } else {
          const total = b.op('sum', [head.output], { axes: [classAxis], keepDims: true });
          logp = b.op('log', [clip(b, b.op('div', [head.output, total]), PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON)]);
        }
        const rows = b.op('sum', [b.op('mul', [y, logp])], { axes: [classAxis] });
        value = b.op('neg', [reduceRows(b, rows, loss)]);
        break;
      }
      default: {
        labels = { name: labelsName, shape: [BATCH, ...positions, units], dtype: 'f32' };
        y = labelsNode ?? b.input(labelsName, labels.shape, 'f32');
        value = reduceElements(b, elementwiseLoss(b, loss, head, y), loss, units);
      }
    }
    if (loss.weight !== 1) value = b.op('mul', [b.constant(loss.weight), value]);
    return { loss: value, labels, labelsNode: y };
  });
}
