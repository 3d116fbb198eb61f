// The TypeScript builder: Keras-like calls that produce the JSON spec. Everything it returns is
// plain data; `JSON.stringify(sequential(...))` is a spec the CLI reads.
import type { InitializerInput } from '../init/initializers.ts';
import { add, applicable, symbolicInput, type Applicable, type SymbolicTensor } from './functional.ts';
import { parseSpec, type ActivationSpec, type ModelSpecInput, type SequentialSpec } from './spec.ts';
export { add, concatenate, model, multiply, SymbolicTensor, type Applicable, type ModelConfig, type ModelOutput } from './functional.ts';

type Initializer = InitializerInput;

export interface DenseOptions {
  readonly name?: string;
  /** Default 'linear'. */
  readonly activation?: ActivationSpec;
  /** Default true. */
  readonly useBias?: boolean;
  /** Default 'glorot_uniform' (Keras). */
  readonly kernelInitializer?: Initializer;
  /** Default 'zeros' (Keras). */
  readonly biasInitializer?: Initializer;
}

export type LayerInput = ModelSpecInput['layers'][number];

type Options<T extends LayerInput['type']> = Omit<Extract<LayerInput, { type: T }>, 'type'>;

/** Every layer is plain data for a Sequential `layers` list, and `.apply(tensor)` in the functional API. */
export function dense(units: number, options: DenseOptions = {}): Applicable {
  return applicable({ type: 'dense', units, ...options } as LayerInput);
}

/** Keras's Activation layer: `activation('gelu')`, `activation({ type: 'leaky_relu', alpha: 0.2 })`. */
export function activation(fn: ActivationSpec, options: { readonly name?: string } = {}): Applicable {
  return applicable({ type: 'activation', activation: fn, ...options } as LayerInput);
}

/** Options: `epsilon` (1e-3), `center`, `scale`, `name`. */
export function layerNormalization(options: Options<'layer_normalization'> = {}): Applicable {
  return applicable({ type: 'layer_normalization', ...options });
}

/** Options: `momentum` (0.99), `epsilon` (1e-3), `center`, `scale`, `name`. */
export function batchNormalization(options: Options<'batch_normalization'> = {}): Applicable {
  return applicable({ type: 'batch_normalization', ...options });
}

export function dropout(rate: number, options: { readonly name?: string } = {}): Applicable {
  return applicable({ type: 'dropout', rate, ...options });
}

/**
 * A model input of `shape` = [features]: a Sequential model's `input`, and the symbolic tensor the
 * functional API starts from (name it there: it keys the data, e.g. `{ wide: ..., deep: ... }`).
 */
export function input(shape: readonly number[], options: { readonly name?: string } = {}): SymbolicTensor {
  return symbolicInput(shape, options.name);
}

export interface ResidualOptions {
  /** Prefix of the block's layer names (`<name>_dense1`, ...); default: automatic names. */
  readonly name?: string;
  /** Default 'relu'. */
  readonly activation?: ActivationSpec;
  /** Batch normalization after each dense layer. Default true. */
  readonly batchNormalization?: boolean;
  /** Default 'he_normal', which suits relu. */
  readonly kernelInitializer?: DenseOptions['kernelInitializer'];
}

/**
 * A residual block, act(F(x) + shortcut(x)), with F = dense → [batch norm] → act → dense →
 * [batch norm]. The shortcut is x itself, or a dense projection without bias where x's width is not
 * `units`. Expands to primitive layers: the spec shows every one.
 */
export function residualBlock(x: SymbolicTensor, units: number, options: ResidualOptions = {}): SymbolicTensor {
  const act = options.activation ?? 'relu';
  const bn = options.batchNormalization ?? true;
  const named = (suffix: string) => (options.name === undefined ? {} : { name: `${options.name}_${suffix}` });
  const kernelInitializer = options.kernelInitializer ?? 'he_normal';
  let h = dense(units, { ...named('dense1'), kernelInitializer }).apply(x);
  if (bn) h = batchNormalization(named('bn1')).apply(h);
  h = activation(act, named('act1')).apply(h);
  h = dense(units, { ...named('dense2'), kernelInitializer }).apply(h);
  if (bn) h = batchNormalization(named('bn2')).apply(h);
  const shortcut = x.width === units ? x : dense(units, { ...named('projection'), useBias: false }).apply(x);
  return activation(act, named('out')).apply(add([h, shortcut], named('add')));
}

type LossOptions<T extends string> = Omit<Extract<ModelSpecInput['loss'], { type: T }>, 'type'>;
type OptimizerOptions<T extends string> = Omit<Extract<NonNullable<ModelSpecInput['optimizer']>, { type: T }>, 'type'>;

/** Options: `weight`, `reduction` ('mean' | 'sum'), and per loss `delta`, `fromLogits`. */
export const losses = {
  /** Mean squared error over batch and outputs. */
  mse: (options: LossOptions<'mse'> = {}) => ({ type: 'mse' as const, ...options }),
  /** Mean absolute error; subgradient 0 where prediction = target. */
  mae: (options: LossOptions<'mae'> = {}) => ({ type: 'mae' as const, ...options }),
  /** Huber loss, quadratic within `delta` (default 1), linear beyond. */
  huber: (options: LossOptions<'huber'> = {}) => ({ type: 'huber' as const, ...options }),
  /** On a sigmoid output (computed from its logits), on logits with fromLogits, or on clipped probabilities. */
  binaryCrossentropy: (options: LossOptions<'binary_crossentropy'> = {}) => ({ type: 'binary_crossentropy' as const, ...options }),
  /** One-hot targets; on a softmax output (from its logits), on logits with fromLogits, or on other probabilities. */
  categoricalCrossentropy: (options: LossOptions<'categorical_crossentropy'> = {}) => ({ type: 'categorical_crossentropy' as const, ...options }),
  /** Integer class labels; on a softmax output (computed from its logits), or on logits with fromLogits. */
  sparseCategoricalCrossentropy: (options: LossOptions<'sparse_categorical_crossentropy'> = {}) => ({
    type: 'sparse_categorical_crossentropy' as const,
    ...options,
  }),
};

/** Every optimizer also takes `schedule`, `clipNorm` or `clipValue`, and `l2`. */
export const optimizers = {
  /** Default learning rate 0.01 (Keras); `momentum`, `nesterov`. */
  sgd: (options: OptimizerOptions<'sgd'> = {}) => ({ type: 'sgd' as const, ...options }),
  /** Default learning rate 0.001, rho 0.9, epsilon 1e-7 (Keras). */
  rmsprop: (options: OptimizerOptions<'rmsprop'> = {}) => ({ type: 'rmsprop' as const, ...options }),
  /** Default learning rate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7 (Keras). */
  adam: (options: OptimizerOptions<'adam'> = {}) => ({ type: 'adam' as const, ...options }),
  /** Adam with decoupled weight decay, default 0.004 (Keras). */
  adamw: (options: OptimizerOptions<'adamw'> = {}) => ({ type: 'adamw' as const, ...options }),
};

export interface SequentialConfig {
  readonly name?: string;
  /** `input([features], { name })`, or the plain `{ shape, name }`. */
  readonly input: ModelSpecInput['input'];
  readonly layers: readonly LayerInput[];
  readonly loss: ModelSpecInput['loss'];
  readonly optimizer?: ModelSpecInput['optimizer'];
  /** The compiled maximum rows per step. Default 32 (Keras). */
  readonly batchSize?: number;
  readonly seed?: number;
}

/** A validated Sequential model spec, with every default filled in. Throws SpecError naming the bad field. */
export function sequential(config: SequentialConfig): SequentialSpec {
  const { shape, name } = config.input;
  return parseSpec({ ...config, input: { shape: [...shape], ...(name !== undefined ? { name } : {}) }, layers: [...config.layers] }) as SequentialSpec;
}
