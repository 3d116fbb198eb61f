// What a layer is: its options (a zod shape, Keras names and defaults), its output shape from its
// input shapes, its parameters, its lowering to IR ops and its summary text. Each layer type states
// all of these once, in its own file; layers/registry.ts lists them. The spec schema, the builders,
// the DAG's shape checks, lowering and the summary are derived from these definitions, so adding a
// layer touches its file and the registry line, nothing else.
//
// Shapes here are per-sample feature shapes (`[features]`, `[h, w, c]`, `[steps, features]`): the
// batch dimension is implicit, always first, and added by the lowering.
import { z } from 'zod';
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';
import type { InitializerSpec } from '../init/initializers.ts';
import type { ActivationName, ActivationSpec } from '../model/activations.ts';
import type { KerasMapping, OnnxMapping, TorchMapping } from './interop/types.ts';

/** A per-sample shape: every axis but the batch. */
export type FeatureShape = readonly number[];

/** A layer's complaint about the shapes it was given; the DAG adds the node, its path and the shapes. */
export class LayerShapeError extends Error {
  override name = 'LayerShapeError';
}

/** A parameter a layer owns, named `<layer>.<suffix>`. */
export interface ParamDecl {
  readonly suffix: string;
  readonly shape: readonly number[];
  readonly init: InitializerSpec;
  /** False for running statistics: saved with the weights, updated by the training pass, not by the optimizer. Default true. */
  readonly trainable?: boolean;
  /**
   * The fans that fan-scaled initializers (glorot, he, lecun) read. Default Keras's rule for a
   * dense kernel: fan_in the last axis, fan_out the first (a vector: its length; a scalar: 1).
   * A convolution kernel states its own (receptive field × channels).
   */
  readonly fans?: { readonly in: number; readonly out: number };
}

export interface LowerArgs<O> {
  readonly b: GraphBuilder;
  readonly options: O;
  /** The input tensors, [N, ...feature shape] each. */
  readonly inputs: readonly NodeId[];
  readonly inputShapes: readonly FeatureShape[];
  /** The layer's parameters by suffix, as `params` declared them (shared by both passes and every application). */
  readonly params: Readonly<Record<string, NodeId>>;
  /** The training pass (batch statistics, dropout masks) rather than the inference pass. */
  readonly training: boolean;
  /** Writes back a parameter after the step (running statistics): `<layer>.<suffix>` takes `value`. */
  readonly update: (suffix: string, value: NodeId) => void;
  /** For layers with `random: true`: the model seed, this layer's own stream and the step counter, so each step draws anew. */
  readonly randomness: () => { readonly seed: number; readonly stream: number; readonly step: NodeId };
  /**
   * The mask [N, steps] arriving with the inputs (1 keeps a step, 0 masks it; several masked inputs:
   * their product), or null. Only layers with `mask: 'read'` use it.
   */
  readonly mask: NodeId | null;
  /** Each input's own mask [N, steps] or null, in input order (attention masks queries and keys apart). */
  readonly masks: readonly (NodeId | null)[];
}

/** What a layer computes; a bare node id is its output, with no activation of its own. */
export type LayerValue =
  | NodeId
  | {
      readonly output: NodeId;
      /** The pre-activation, for losses that take the final activation from its input (sigmoid, softmax). */
      readonly preActivation: NodeId;
      readonly activation: ActivationName;
    }
  | {
      readonly output: NodeId;
      /** The mask [N, steps] the layer makes (`makesMask`): 1 keeps a step, 0 masks it. */
      readonly mask: NodeId;
    };

/**
 * What a layer does with a mask [N, steps] that arrives with an input (Keras's `supports_masking`
 * and `compute_mask`). 'pass': it computes per step on a time axis it keeps, so the mask goes on to
 * its output (several masked inputs: their product, Keras's logical and). 'read': its lowering
 * reads the mask (LowerArgs.mask) and `keepsMask` says whether its output carries it on.
 */
export type MaskUse = 'pass' | 'read';

export interface LayerDef<S extends z.ZodRawShape = z.ZodRawShape, O = z.output<z.ZodObject<S>>> {
  /** The spec's `type`, Keras's layer name in snake case. */
  readonly type: string;
  /** The options besides `type`, `name` (and `inputs` in the graph form), with their defaults. */
  readonly options: S;
  /** How many tensors it reads; default exactly one. Layers reading two or more are graph-form only (merges). */
  readonly arity?: { readonly min: number; readonly max?: number };
  /** Can be applied again to other inputs with the same parameters (a shared layer). Default true. */
  readonly shareable?: boolean;
  /** Computes something else in training than in inference (batch statistics, dropout): the model then gets a training pass. */
  readonly trainingDiffers?: boolean;
  /** Draws random numbers (a stream of its own, numbered among the model's random layers in order). */
  readonly random?: boolean;
  /** The activation the layer applies, where it has one: softmax is refused away from an output, telemetry reports it. */
  activation?(options: O): ActivationSpec;
  /**
   * Reads int32 token ids below this bound (embedding: inputDim) instead of float features. Only
   * such layers may read an int32 input, and they read nothing else; the runtime refuses ids
   * outside [0, bound).
   */
  tokenIds?(options: O): number;
  /** What it does with a masked input; unset: a masked input is refused, naming the layer (as Keras raises). */
  readonly mask?: MaskUse;
  /** For `mask: 'read'` layers: the output keeps its first input's steps and carries that input's mask on (a recurrent layer returning sequences; attention, its query's). Default false: the mask ends here. */
  keepsMask?(options: O): boolean;
  /** Makes a mask of its own (embedding with maskZero); its lowering then returns `{ output, mask }`. */
  makesMask?(options: O): boolean;
  /** The output shape, or a LayerShapeError saying why these inputs do not fit. */
  outputShape(options: O, inputs: readonly FeatureShape[]): FeatureShape;
  /** The parameters, in the order they are created (it fixes their initial values and their place in the arena). */
  params?(options: O, inputs: readonly FeatureShape[]): readonly ParamDecl[];
  lower(args: LowerArgs<O>): LayerValue;
  /** The summary's type column, e.g. `dense (relu)`; default the type. */
  describe?(options: O): string;
  /** Its Keras class, config and weights (import from Keras and TensorFlow.js, export to TensorFlow.js). */
  readonly keras?: KerasMapping<O>;
  /** Its PyTorch module and forward pass (export to PyTorch). */
  readonly torch?: TorchMapping<O>;
  /** Its inference pass as ONNX nodes (export to ONNX). */
  readonly onnx?: OnnxMapping<O>;
}

/** A layer definition with its option types checked against its own schema; keeps its type's literal. */
export function defineLayer<const T extends string, S extends z.ZodRawShape>(def: LayerDef<S> & { readonly type: T }): LayerDef<S> & { readonly type: T } {
  return def;
}

/**
 * Any layer definition, its options seen as plain data. The methods above are declared as methods
 * (bivariant), so every defineLayer result is one: the registry holds definitions of many option
 * types, and each receives only options its own schema has parsed.
 */
export type AnyLayerDef = LayerDef<z.ZodRawShape, Record<string, unknown>>;


/** `[N, 3, 4]`: a feature shape with its batch dimension. */
export const batchedText = (shape: FeatureShape): string => `[${['N', ...shape].join(', ')}]`;

/** The one shape all inputs share (elementwise merges), or a LayerShapeError. */
export function commonShape(type: string, inputs: readonly FeatureShape[]): FeatureShape {
  const first = inputs[0]!;
  if (!inputs.every((s) => s.length === first.length && s.every((d, i) => d === first[i]))) throw new LayerShapeError(`${type} needs inputs of one shape`);
  return first;
}

/** How many tensors a layer reads: its `arity`, or exactly one. */
export function arityOf(def: AnyLayerDef): { readonly min: number; readonly max?: number } {
  return def.arity ?? { min: 1, max: 1 };
}

/** The shape of layers that work on rows of features (rank 1), or a LayerShapeError naming `type`. */
export function featureRows(type: string, shape: FeatureShape): FeatureShape {
  if (shape.length !== 1) throw new LayerShapeError(`${type} takes rows of features (rank 1), got a rank-${shape.length} input`);
  return shape;
}

/** The channels (last axis) of a layer that works per channel or over the last axis, at any rank from 1; a LayerShapeError naming `type` otherwise. */
export function channelsOf(type: string, shape: FeatureShape): number {
  if (shape.length < 1) throw new LayerShapeError(`${type} needs an input with a feature axis, got a scalar per sample`);
  return shape.at(-1)!;
}

/** Merge layers (add, multiply, concatenate) read two or more tensors. */
export const TWO_OR_MORE = { min: 2 } as const;

const schemas = new WeakMap<AnyLayerDef, z.ZodObject>();

/** A layer's options as a strict zod object (no type, name or inputs): unknown fields are errors. */
export function optionsSchema(def: AnyLayerDef): z.ZodObject {
  let schema = schemas.get(def);
  if (!schema) {
    schema = z.strictObject(def.options);
    schemas.set(def, schema);
  }
  return schema;
}
