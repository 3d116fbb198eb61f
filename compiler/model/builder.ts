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

export const losses = {
  /** Mean squared error over batch and outputs. */
  mse: (options: { readonly weight?: number } = {}) => ({ type: 'mse' as const, ...options }),
  /** On a sigmoid output (computed from its logits), or on logits with fromLogits. */
  binaryCrossentropy: (options: { readonly weight?: number; readonly fromLogits?: boolean } = {}) => ({ type: 'binary_crossentropy' as const, ...options }),
  /** Integer class labels; on a softmax output (computed from its logits), or on logits with fromLogits. */
  sparseCategoricalCrossentropy: (options: { readonly weight?: number; readonly fromLogits?: boolean } = {}) => ({
    type: 'sparse_categorical_crossentropy' as const,
    ...options,
  }),
};

export const optimizers = {
  /** Default learning rate 0.01 (Keras). */
  sgd: (options: { readonly learningRate?: number } = {}) => ({ type: 'sgd' as const, ...options }),
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
