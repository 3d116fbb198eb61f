// How a layer crosses into other frameworks: its Keras class and weights (import from Keras and
// TensorFlow.js, export to TensorFlow.js), its PyTorch module and forward expression, and its ONNX
// nodes. A layer states these next to its definition (the `keras`, `torch` and `onnx` fields of
// LayerDef), so adding a layer adds its interop in the same file; the importers and exporters in
// compiler/interop/ read the registry and name no layer type. A layer without a field cannot cross
// in that direction, and the error says so.
import type { ActivationSpec } from '../../model/activations.ts';

/** A Keras layer's `config` object, as model.json or `model.to_json()` writes it. */
export type KerasConfig = Readonly<Record<string, unknown>>;

/** A Keras config field nabla cannot express; the importer adds the layer's name and class. */
export class KerasFieldError extends Error {
  override name = 'KerasFieldError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Options a layer's PyTorch or ONNX form cannot express; the exporter adds the layer's name and type. */
export class FormError extends Error {
  override name = 'FormError';
}

/** One of a layer's Keras weights, in Keras's order, and the nabla parameter it is. */
export interface KerasWeight {
  /** Keras's weight name: `kernel`, `gamma`, `moving_mean`. */
  readonly keras: string;
  /** nabla's parameter suffix: `weight`, `running_mean`. */
  readonly suffix: string;
  /** The axis permutation from nabla's (PyTorch's) layout to Keras's; absent: the same layout. */
  readonly permutation?: readonly number[];
}

/**
 * A Keras weight made from several nabla parameters, or from one in another arrangement than an
 * axis permutation: a recurrent layer's kernel with its gate blocks reordered, its bias the sum of
 * PyTorch's two biases. On import, `fromKeras` gives each parameter (a parameter Keras does not
 * hold, such as PyTorch's second bias, comes back as zeros).
 */
export interface KerasDerivedWeight {
  readonly keras: string;
  /** The nabla parameters (suffixes) it is made from, in the order the functions take and give them. */
  readonly suffixes: readonly string[];
  /** Its shape in Keras, from the parameters' shapes (in `suffixes` order). */
  shape(paramShapes: readonly (readonly number[])[]): readonly number[];
  toKeras(params: readonly Float32Array[], paramShapes: readonly (readonly number[])[]): Float32Array;
  /**
   * The parameters from the Keras value. A Keras weight that is a part of a parameter (Keras's
   * per-role attention kernels of the stacked in_proj_weight) gives zeros outside its part: the
   * importer adds the parts of one parameter.
   */
  fromKeras(value: Float32Array, paramShapes: readonly (readonly number[])[]): readonly Float32Array[];
}

/** True for a derived weight, false for a one-to-one one. */
export const isDerivedWeight = (w: KerasWeight | KerasDerivedWeight): w is KerasDerivedWeight => 'suffixes' in w;

export interface KerasMapping<O> {
  /** The Keras class nabla writes for this layer. */
  readonly className: string;
  /** Keras classes read as this layer type, each with its config → nabla options (no type or name). */
  readonly fromKeras: Readonly<Record<string, (config: KerasConfig) => Record<string, unknown>>>;
  /** The Keras config (without name) of these options on inputs of these per-sample shapes; throws KerasFieldError where Keras has no equivalent. */
  toKeras(options: O, inputShapes: readonly (readonly number[])[]): Record<string, unknown>;
  /**
   * The layer's Keras weights in the order Keras creates them. On import `config` is the Keras
   * config the options were read from: a wrapper's weights live under its inner layer's name.
   */
  weights(options: O, config?: KerasConfig): readonly (KerasWeight | KerasDerivedWeight)[];
}

/**
 * What a layer's forward computes in Python: an expression, or a pre-activation and the activation
 * applied to it (the generator keeps the pre-activation: cross-entropies are computed from it).
 */
export type TorchValue = string | { readonly pre: string; readonly activation: ActivationSpec };

export interface TorchMapping<O> {
  /** The submodule holding its parameters (`nn.Linear(3, 4)`), assigned as `self.<layer>`; absent for layers without parameters. */
  module?(options: O, inputShapes: readonly (readonly number[])[]): string;
  /** Its forward pass over Python expressions of its inputs; `self` is the submodule's expression; `inputShapes` per sample. */
  forward(options: O, inputs: readonly string[], self: string, inputShapes: readonly (readonly number[])[]): TorchValue;
}

/** Adds nodes to an ONNX graph; every method returns the name of the value it produced. */
export interface OnnxEmitter {
  node(opType: string, inputs: readonly string[], attributes?: Readonly<Record<string, number | readonly number[]>>): string;
  /** A float constant (an initializer), scalar when no shape is given. */
  constant(values: readonly number[], shape?: readonly number[]): string;
  /** An int64 vector constant (a shape, axes). */
  integers(values: readonly number[]): string;
}

export interface OnnxMapping<O> {
  /** The inference pass as ONNX nodes; `params` names each parameter's initializer by suffix; `inputShapes` per sample. */
  lower(g: OnnxEmitter, options: O, inputs: readonly string[], params: Readonly<Record<string, string>>, inputShapes: readonly (readonly number[])[]): string;
}
