// The TypeScript builder: Keras-like calls that produce the JSON spec. Everything it returns is
// plain data; `JSON.stringify(sequential(...))` is a spec the CLI reads.
import type { InitializerInput } from '../init/initializers.ts';
import { parseSpec, type ActivationSpec, type ModelSpec, type ModelSpecInput } from './spec.ts';

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

export function dense(units: number, options: DenseOptions = {}): LayerInput {
  return { type: 'dense', units, ...options } as LayerInput;
}

/** Keras's Activation layer: `activation('gelu')`, `activation({ type: 'leaky_relu', alpha: 0.2 })`. */
export function activation(fn: ActivationSpec, options: { readonly name?: string } = {}): LayerInput {
  return { type: 'activation', activation: fn, ...options } as LayerInput;
}

export function input(shape: readonly number[], options: { readonly name?: string } = {}): ModelSpecInput['input'] {
  return { shape: [...shape], ...options };
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
  readonly input: ModelSpecInput['input'];
  readonly layers: readonly LayerInput[];
  readonly loss: ModelSpecInput['loss'];
  readonly optimizer?: ModelSpecInput['optimizer'];
  /** The compiled maximum rows per step. Default 32 (Keras). */
  readonly batchSize?: number;
  readonly seed?: number;
}

/** A validated Sequential model spec, with every default filled in. Throws SpecError naming the bad field. */
export function sequential(config: SequentialConfig): ModelSpec {
  return parseSpec({ ...config, layers: [...config.layers] });
}
