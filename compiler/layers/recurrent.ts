// What the recurrent layers (simple_rnn, lstm, gru) share: their Keras options, their parameters in
// PyTorch's names and layout, and the static unrolling of a cell over the compiled number of steps.
//
// Unrolling: the input [N, T, F] is projected for all steps at once (one matmul over the leading
// axes: [N, T, F]·W_ihᵀ → [N, T, G·units], G the number of gate blocks), viewed as [N, T·G·units]
// and cut into its T steps' columns; then each step adds its recurrent product h·W_hhᵀ (one matmul
// per step) and the cell combines the gates. The backward pass through time is the symbolic
// backward graph of this forward graph, the weights shared across steps like a shared layer's.
//
// Cutting and stacking go by halves (a balanced tree of slices and of concats): a chain would copy
// a tensor of all steps' width once per step, quadratic in the steps, and so would the cotangents
// of the slices (each is padded back to its operand's width); by halves each level moves the whole
// sequence once, T·log₂T in all.
//
// Masking (Keras's): with a mask [N, steps], a step where a row's mask is 0 leaves that row's state
// as it was, s_t = m·s_new + (1 − m)·s_{t−1} (exact for m ∈ {0, 1}: the kept term is multiplied by 1,
// the other by 0), and its output is the previous output, which is the carried h; or zeros where
// Keras zeroes masked outputs (`zeroMaskedOutputs`: Bidirectional returning sequences). goBackwards
// reads the mask in the same reversed order as the steps, so trailing padding is skipped first.
import { z } from 'zod';
import type { GraphBuilder } from '../ir/builder.ts';
import { joinColumns } from '../ir/columns.ts';
import { BATCH, type NodeId } from '../ir/types.ts';
import { Initializer, type InitializerSpec } from '../init/initializers.ts';
import { activate, Activation, activationType, type ActivationSpec } from '../model/activations.ts';
import { positiveInt } from './fields.ts';
import { LayerShapeError, type FeatureShape, type ParamDecl } from './layer.ts';

/** The options every recurrent layer has, Keras's names and defaults (see docs/layers.md for where the initializers differ). */
export const recurrentOptions = {
  units: positiveInt,
  activation: Activation.default('tanh'),
  useBias: z.boolean().default(true),
  kernelInitializer: Initializer.default({ type: 'glorot_uniform' }),
  /** Keras's default is orthogonal, which nabla does not draw; glorot_uniform on [G·units, units] instead. */
  recurrentInitializer: Initializer.default({ type: 'glorot_uniform' }),
  biasInitializer: Initializer.default({ type: 'zeros' }),
  /** The output at every step ([steps, units]) rather than at the last one ([units]). */
  returnSequences: z.boolean().default(false),
  /** The final state instead of the output: h (simple_rnn, gru) or h and c joined (lstm), [N, units] or [N, 2·units]. */
  returnState: z.boolean().default(false),
  /** Reads the steps last to first; a returned sequence is in that order too, as in Keras. */
  goBackwards: z.boolean().default(false),
};

/** The options with gates: lstm and gru. */
export const gatedOptions = {
  ...recurrentOptions,
  recurrentActivation: Activation.default('sigmoid'),
};

export interface RecurrentOptions {
  readonly units: number;
  readonly activation: ActivationSpec;
  readonly recurrentActivation?: ActivationSpec;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerSpec;
  readonly recurrentInitializer: InitializerSpec;
  readonly biasInitializer: InitializerSpec;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly goBackwards: boolean;
}

/** One step of a cell. `state` is null at the first step (all zeros, so no recurrent product is needed). */
export interface CellStep {
  readonly b: GraphBuilder;
  readonly options: RecurrentOptions;
  /** This step's input projection x_t·W_ihᵀ + b_ih, [N, G·units]. */
  readonly input: NodeId;
  /** The previous state (h first; lstm: h, c), or null before the first step. */
  readonly state: readonly NodeId[] | null;
  /** h·W_hhᵀ + b_hh, [N, G·units]; at the first step (h = 0) the bias alone, [G·units], or null without bias. */
  readonly recurrent: NodeId | null;
  /** W_hh and b_hh (or null), for a cell that forms a recurrent product of its own (gru without resetAfter). */
  readonly weightHh: NodeId;
  readonly biasHh: NodeId | null;
  /** The k-th gate block (units columns) of a [.., G·units] tensor. */
  gate(x: NodeId, k: number): NodeId;
}

export interface Cell {
  /** The layer type, for error messages. */
  readonly type: string;
  /** Gate blocks in the weights: 1 (simple_rnn), 3 (gru), 4 (lstm). */
  readonly gates: number;
  /** The next state, h first. */
  step(args: CellStep): readonly NodeId[];
}

/** x + y, where a missing y (a zero) adds nothing. */
export const plus = (b: GraphBuilder, x: NodeId, y: NodeId | null): NodeId => (y === null ? x : b.op('add', [x, y]));

/** The input's steps and features, or a LayerShapeError naming the layer type. */
export function sequenceShape(type: string, shape: FeatureShape): { readonly steps: number; readonly features: number } {
  if (shape.length !== 2) throw new LayerShapeError(`${type} reads sequences [steps, features] (rank 2 per sample), got a rank-${shape.length} input`);
  return { steps: shape[0]!, features: shape[1]! };
}

/** The output shape of a recurrent layer on a [steps, features] input. */
export function recurrentOutputShape(cell: Cell, o: RecurrentOptions, input: FeatureShape): FeatureShape {
  const { steps } = sequenceShape(cell.type, input);
  if (o.returnState && o.returnSequences) {
    throw new LayerShapeError(`${cell.type}: returnState with returnSequences would be two tensors; a layer has one output: set one of them`);
  }
  if (o.returnState) return [cell.gates === 4 ? 2 * o.units : o.units];
  return o.returnSequences ? [steps, o.units] : [o.units];
}

/** The parameters in PyTorch's names and layout: weight_ih_l0 [G·units, features], weight_hh_l0 [G·units, units], bias_ih_l0, bias_hh_l0. */
export function recurrentParams(cell: Cell, o: RecurrentOptions, input: FeatureShape, suffix = ''): ParamDecl[] {
  const { features } = sequenceShape(cell.type, input);
  const rows = cell.gates * o.units;
  return [
    { suffix: `weight_ih_l0${suffix}`, shape: [rows, features], init: o.kernelInitializer },
    { suffix: `weight_hh_l0${suffix}`, shape: [rows, o.units], init: o.recurrentInitializer },
    ...(o.useBias
      ? [
          { suffix: `bias_ih_l0${suffix}`, shape: [rows], init: o.biasInitializer },
          { suffix: `bias_hh_l0${suffix}`, shape: [rows], init: o.biasInitializer },
        ]
      : []),
  ];
}

/** `count` pieces of `width` columns each from x [.., count·width], by halves. */
export function splitColumns(b: GraphBuilder, x: NodeId, count: number, width: number): NodeId[] {
  if (count === 1) return [x];
  const half = Math.floor(count / 2);
  const left = b.op('slice', [x], { start: 0, size: half * width });
  const right = b.op('slice', [x], { start: half * width, size: (count - half) * width });
  return [...splitColumns(b, left, half, width), ...splitColumns(b, right, count - half, width)];
}


export interface UnrollArgs {
  readonly b: GraphBuilder;
  readonly cell: Cell;
  readonly options: RecurrentOptions;
  /** [N, steps, features]. */
  readonly input: NodeId;
  readonly inputShape: FeatureShape;
  readonly params: Readonly<Record<string, NodeId>>;
  /** The parameters' suffix: '' or '_reverse' (the backward direction of a bidirectional layer). */
  readonly suffix?: string;
  /** Reads the steps last to first. */
  readonly reverse: boolean;
  /** Returns the sequence reversed from reading order (the backward direction of a bidirectional layer, which Keras re-aligns with time). */
  readonly reverseOutput?: boolean;
  /** The mask [N, steps] (1 reads a step, 0 skips it), or null. */
  readonly mask?: NodeId | null;
  /** A skipped step outputs zeros instead of the previous output (Keras's zero_output_for_mask). */
  readonly zeroMaskedOutputs?: boolean;
}

/** The unrolled layer's output: the last h, every h ([N, steps, units]) or the final state. */
export function unroll({ b, cell, options: o, input, inputShape, params, suffix = '', reverse, reverseOutput = false, mask = null, zeroMaskedOutputs = false }: UnrollArgs): NodeId {
  const { steps } = sequenceShape(cell.type, inputShape);
  const width = cell.gates * o.units;
  const weightHh = params[`weight_hh_l0${suffix}`]!;
  const biasIh = params[`bias_ih_l0${suffix}`] ?? null;
  const biasHh = params[`bias_hh_l0${suffix}`] ?? null;
  // All steps' input projections in one GEMM over the leading axes, then each step's columns.
  const projected = plus(b, b.op('matmul', [input, params[`weight_ih_l0${suffix}`]!], { transB: true }), biasIh);
  const perStep = splitColumns(b, b.op('reshape', [projected], { shape: [BATCH, steps * width] }), steps, width);
  const gate = (x: NodeId, k: number): NodeId => (cell.gates === 1 ? x : b.op('slice', [x], { start: k * o.units, size: o.units }));
  const order = Array.from({ length: steps }, (_, t) => (reverse ? steps - 1 - t : t));
  // Each step's mask column [N, 1], broadcast over the units.
  const stepMasks = mask === null ? null : splitColumns(b, mask, steps, 1);
  let state: readonly NodeId[] | null = null;
  const outputs: NodeId[] = [];
  for (const t of order) {
    const recurrent = state === null ? biasHh : plus(b, b.op('matmul', [state[0]!, weightHh], { transB: true }), biasHh);
    const next = cell.step({ b, options: o, input: perStep[t]!, state, recurrent, weightHh, biasHh, gate });
    if (stepMasks === null) {
      state = next;
      outputs.push(next[0]!);
      continue;
    }
    const m = stepMasks[t]!;
    state = carryMasked(b, m, next, state);
    outputs.push(zeroMaskedOutputs ? b.op('mul', [m, next[0]!]) : state[0]!);
  }
  if (o.returnState) return state!.length === 1 ? state![0]! : joinColumns(b, state!);
  if (!o.returnSequences) return outputs.at(-1)!;
  const ordered = reverseOutput ? [...outputs].reverse() : outputs;
  return b.op('reshape', [joinColumns(b, ordered)], { shape: [BATCH, steps, o.units] });
}

/** The state after a step under mask column m [N, 1]: the new state where m is 1, the previous one (zeros before the first step) where it is 0. */
function carryMasked(b: GraphBuilder, m: NodeId, next: readonly NodeId[], previous: readonly NodeId[] | null): NodeId[] {
  if (previous === null) return next.map((s) => b.op('mul', [m, s]));
  const keep = b.op('sub', [b.constant(1), m]);
  return next.map((s, k) => b.op('add', [b.op('mul', [m, s]), b.op('mul', [keep, previous[k]!])]));
}

/** The recurrent activation of a gated layer. */
export const recurrentActivationOf = (o: RecurrentOptions): ActivationSpec => o.recurrentActivation ?? 'sigmoid';

/** Rows [start, start + count) of a matrix [rows, columns] (rows are contiguous: a slice of its flat view). */
export function matrixRows(b: GraphBuilder, w: NodeId, start: number, count: number): NodeId {
  const [rows, columns] = b.node(w).shape as readonly number[];
  const flat = b.op('reshape', [w], { shape: [rows! * columns!] });
  return b.op('reshape', [b.op('slice', [flat], { start: start * columns!, size: count * columns! })], { shape: [count, columns!] });
}

export { activate };

/** True when the activations are PyTorch's fixed ones (tanh, and sigmoid for the gates). */
export function torchActivations(o: RecurrentOptions): boolean {
  return activationType(o.activation) === 'tanh' && activationType(recurrentActivationOf(o)) === 'sigmoid';
}
