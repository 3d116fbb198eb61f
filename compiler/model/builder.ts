// The TypeScript builder: Keras-like calls that produce the JSON spec. Everything it returns is
// plain data; `JSON.stringify(sequential(...))` is a spec the CLI reads. The layer builders take
// each layer's options from its definition (compiler/layers/), so their types follow the schema.
import type { z } from 'zod';
import { activationLayer } from '../layers/activation.ts';
import { addLayer } from '../layers/add.ts';
import { batchNormalizationLayer } from '../layers/batch_normalization.ts';
import { concatenateLayer } from '../layers/concatenate.ts';
import { denseLayer } from '../layers/dense.ts';
import { conv1dLayer } from '../layers/conv1d.ts';
import { conv2dLayer } from '../layers/conv2d.ts';
import { depthwiseConv2dLayer } from '../layers/depthwise_conv2d.ts';
import { dropoutLayer } from '../layers/dropout.ts';
import { embeddingLayer } from '../layers/embedding.ts';
import { separableConv2dLayer } from '../layers/separable_conv2d.ts';
import { flattenLayer } from '../layers/flatten.ts';
import { layerNormalizationLayer } from '../layers/layer_normalization.ts';
import { multiplyLayer } from '../layers/multiply.ts';
import { maxPooling2dLayer } from '../layers/max_pooling2d.ts';
import { averagePooling2dLayer } from '../layers/average_pooling2d.ts';
import { maxPooling1dLayer } from '../layers/max_pooling1d.ts';
import { averagePooling1dLayer } from '../layers/average_pooling1d.ts';
import { globalAveragePooling2dLayer } from '../layers/global_average_pooling2d.ts';
import { globalMaxPooling2dLayer } from '../layers/global_max_pooling2d.ts';
import { globalAveragePooling1dLayer } from '../layers/global_average_pooling1d.ts';
import { zeroPadding2dLayer } from '../layers/zero_padding2d.ts';
import { reshapeLayer } from '../layers/reshape.ts';
import { simpleRnnLayer } from '../layers/simple_rnn.ts';
import { lstmLayer } from '../layers/lstm.ts';
import { gruLayer } from '../layers/gru.ts';
import { bidirectionalLayer } from '../layers/bidirectional.ts';
import { repeatVectorLayer } from '../layers/repeat_vector.ts';
import { multiHeadAttentionLayer } from '../layers/multi_head_attention.ts';
import { positionEmbeddingLayer } from '../layers/position_embedding.ts';
import { transformerBlockLayer } from '../layers/transformer_block.ts';
import { applicable, SymbolicTensor, type Applicable, type LayerInputOf } from '../layers/symbolic.ts';
import { symbolicInput } from './functional.ts';
import { parseSpec, type ActivationSpec, type ModelSpecInput, type SequentialSpec } from './spec.ts';
export { model, SymbolicTensor, type Applicable, type ModelConfig, type ModelOutput } from './functional.ts';
export { registerLayer } from '../layers/registry.ts';
export { defineLayer, type LayerDef, type LowerArgs, type ParamDecl, LayerShapeError } from '../layers/layer.ts';
export type { LayerInput } from './spec.ts';

/** A layer's options as a builder takes them: no type, the positional ones left out. */
type Options<D extends { readonly type: string; readonly options: z.ZodRawShape }, Positional extends string = never> = Omit<LayerInputOf<D['options'], D['type']>, 'type' | Positional>;

export type DenseOptions = Options<typeof denseLayer, 'units'>;

/** Keras's Dense: `dense(units, { activation, useBias, kernelInitializer, biasInitializer, name })`. */
export function dense(units: number, options: DenseOptions = {}): Applicable {
  return applicable(denseLayer, { type: 'dense', units, ...options });
}

/** Keras's Conv2D: `conv2d(32, { kernelSize: 3, padding: 'same', activation: 'relu' })`; kernel [filters, in, kh, kw]. */
export function conv2d(filters: number, options: Options<typeof conv2dLayer, 'filters'>): Applicable {
  return applicable(conv2dLayer, { type: 'conv2d', filters, ...options });
}

/** Keras's Conv1D on [steps, channels]: `conv1d(16, { kernelSize: 3 })`; kernel [filters, in, k]. */
export function conv1d(filters: number, options: Options<typeof conv1dLayer, 'filters'>): Applicable {
  return applicable(conv1dLayer, { type: 'conv1d', filters, ...options });
}

/** Keras's DepthwiseConv2D: `depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 })`; kernel [c·M, 1, kh, kw]. */
export function depthwiseConv2d(options: Options<typeof depthwiseConv2dLayer>): Applicable {
  return applicable(depthwiseConv2dLayer, { type: 'depthwise_conv2d', ...options });
}

/** Keras's SeparableConv2D: a depthwise convolution then a 1×1 convolution to `filters`. */
export function separableConv2d(filters: number, options: Options<typeof separableConv2dLayer, 'filters'>): Applicable {
  return applicable(separableConv2dLayer, { type: 'separable_conv2d', filters, ...options });
}

/** Keras's Activation layer: `activation('gelu')`, `activation({ type: 'leaky_relu', alpha: 0.2 })`. */
export function activation(fn: ActivationSpec, options: { readonly name?: string } = {}): Applicable {
  return applicable(activationLayer, { type: 'activation', activation: fn, ...options });
}

/** Options: `epsilon` (1e-3), `center`, `scale`, `name`. */
export function layerNormalization(options: Options<typeof layerNormalizationLayer> = {}): Applicable {
  return applicable(layerNormalizationLayer, { type: 'layer_normalization', ...options });
}

/** Options: `momentum` (0.99), `epsilon` (1e-3), `center`, `scale`, `name`. */
export function batchNormalization(options: Options<typeof batchNormalizationLayer> = {}): Applicable {
  return applicable(batchNormalizationLayer, { type: 'batch_normalization', ...options });
}

export function dropout(rate: number, options: { readonly name?: string } = {}): Applicable {
  return applicable(dropoutLayer, { type: 'dropout', rate, ...options });
}

/** Keras's MaxPooling2D: `poolSize` (2), `strides` (the pool size), `padding` ('valid'), `name`. */
export function maxPooling2d(options: Options<typeof maxPooling2dLayer> = {}): Applicable {
  return applicable(maxPooling2dLayer, { type: 'max_pooling2d', ...options });
}

/** Keras's AveragePooling2D: `poolSize` (2), `strides` (the pool size), `padding` ('valid'), `name`. */
export function averagePooling2d(options: Options<typeof averagePooling2dLayer> = {}): Applicable {
  return applicable(averagePooling2dLayer, { type: 'average_pooling2d', ...options });
}

/** Keras's MaxPooling1D: `poolSize` (2), `strides` (the pool size), `padding` ('valid'), `name`. */
export function maxPooling1d(options: Options<typeof maxPooling1dLayer> = {}): Applicable {
  return applicable(maxPooling1dLayer, { type: 'max_pooling1d', ...options });
}

/** Keras's AveragePooling1D: `poolSize` (2), `strides` (the pool size), `padding` ('valid'), `name`. */
export function averagePooling1d(options: Options<typeof averagePooling1dLayer> = {}): Applicable {
  return applicable(averagePooling1dLayer, { type: 'average_pooling1d', ...options });
}

/** Keras's GlobalAveragePooling2D: `keepdims` (false), `name`. */
export function globalAveragePooling2d(options: Options<typeof globalAveragePooling2dLayer> = {}): Applicable {
  return applicable(globalAveragePooling2dLayer, { type: 'global_average_pooling2d', ...options });
}

/** Keras's GlobalMaxPooling2D: `keepdims` (false), `name`. */
export function globalMaxPooling2d(options: Options<typeof globalMaxPooling2dLayer> = {}): Applicable {
  return applicable(globalMaxPooling2dLayer, { type: 'global_max_pooling2d', ...options });
}

/** Keras's GlobalAveragePooling1D: `keepdims` (false), `name`. */
export function globalAveragePooling1d(options: Options<typeof globalAveragePooling1dLayer> = {}): Applicable {
  return applicable(globalAveragePooling1dLayer, { type: 'global_average_pooling1d', ...options });
}

/** Keras's ZeroPadding2D: `padding` (1; `[rows, cols]` or `[[top, bottom], [left, right]]`), `name`. */
export function zeroPadding2d(options: Options<typeof zeroPadding2dLayer> = {}): Applicable {
  return applicable(zeroPadding2dLayer, { type: 'zero_padding2d', ...options });
}

/** Keras's Embedding: `embedding(inputDim, outputDim, { embeddingsInitializer, maskZero, name })`, reading an input of dtype 'int32'; `maskZero` masks id 0 out of later layers. */
export function embedding(inputDim: number, outputDim: number, options: Options<typeof embeddingLayer, 'inputDim' | 'outputDim'> = {}): Applicable {
  return applicable(embeddingLayer, { type: 'embedding', inputDim, outputDim, ...options });
}

/** Keras's SimpleRNN: `simpleRnn(units, { activation, returnSequences, returnState, goBackwards, useBias, initializers, name })` on [steps, features]. */
export function simpleRnn(units: number, options: Options<typeof simpleRnnLayer, 'units'> = {}): Applicable {
  return applicable(simpleRnnLayer, { type: 'simple_rnn', units, ...options });
}

/** Keras's LSTM: `lstm(units, { activation, recurrentActivation, returnSequences, returnState, goBackwards, useBias, initializers, name })`. */
export function lstm(units: number, options: Options<typeof lstmLayer, 'units'> = {}): Applicable {
  return applicable(lstmLayer, { type: 'lstm', units, ...options });
}

/** Keras's GRU: `gru(units, { resetAfter (true), activation, recurrentActivation, returnSequences, returnState, goBackwards, ..., name })`. */
export function gru(units: number, options: Options<typeof gruLayer, 'units'> = {}): Applicable {
  return applicable(gruLayer, { type: 'gru', units, ...options });
}

/** Keras's Bidirectional (merge mode concat) around a recurrent layer: `bidirectional(lstm(8, { returnSequences: true }))`. */
export function bidirectional(layer: Applicable, options: { readonly name?: string } = {}): Applicable {
  // The wrapped layer's options as simpleRnn/lstm/gru wrote them (the wrapper's schema checks them); its name is dropped.
  const { name: _name, ...wrapped } = layer as Applicable & { readonly name?: string };
  return applicable(bidirectionalLayer, { type: 'bidirectional', layer: wrapped as unknown as z.input<typeof bidirectionalLayer.options.layer>, ...options });
}

/** Keras's RepeatVector: [features] → [n, features]. */
export function repeatVector(n: number, options: { readonly name?: string } = {}): Applicable {
  return applicable(repeatVectorLayer, { type: 'repeat_vector', n, ...options });
}

/**
 * Keras's MultiHeadAttention on [steps, features]: `multiHeadAttention(4, { useCausalMask: true })`;
 * applied to one tensor it is self-attention, to [query, value] or [query, value, key] cross-attention.
 * Parameters as torch.nn.MultiheadAttention's: `in_proj_weight`, `in_proj_bias`, `out_proj.weight`, `out_proj.bias`.
 */
export function multiHeadAttention(numHeads: number, options: Options<typeof multiHeadAttentionLayer, 'numHeads'> = {}): Applicable {
  return applicable(multiHeadAttentionLayer, { type: 'multi_head_attention', numHeads, ...options });
}

/** A learned position embedding added to [steps, features] (keras_hub's PositionEmbedding); table `weight` [sequenceLength, features]. */
export function positionEmbedding(options: Options<typeof positionEmbeddingLayer> = {}): Applicable {
  return applicable(positionEmbeddingLayer, { type: 'position_embedding', ...options });
}

/**
 * A pre-norm transformer block on [steps, features]: LN → (causal) multi-head attention → add →
 * LN → MLP (mlpDim, default 4 × features; gelu) → add. One layer of the spec (`transformer_block`),
 * its parameters named as torch.nn.TransformerEncoderLayer's.
 */
export function transformerBlock(options: Options<typeof transformerBlockLayer>): Applicable {
  return applicable(transformerBlockLayer, { type: 'transformer_block', ...options });
}

/** Keras's Flatten: each sample as one row of values (an image [h, w, c] → [h·w·c]). */
export function flatten(options: { readonly name?: string } = {}): Applicable {
  return applicable(flattenLayer, { type: 'flatten', ...options });
}

/** Keras's Reshape: `reshape([8, 8, 1])`; one axis may be -1. */
export function reshape(targetShape: readonly number[], options: { readonly name?: string } = {}): Applicable {
  return applicable(reshapeLayer, { type: 'reshape', targetShape: [...targetShape], ...options });
}

/** Elementwise sum of tensors of one shape (a residual connection). */
export function add(inputs: readonly SymbolicTensor[], options: { readonly name?: string } = {}): SymbolicTensor {
  return applicable(addLayer, { type: 'add' }).apply(inputs, options);
}

/** Elementwise product of tensors of one shape. */
export function multiply(inputs: readonly SymbolicTensor[], options: { readonly name?: string } = {}): SymbolicTensor {
  return applicable(multiplyLayer, { type: 'multiply' }).apply(inputs, options);
}

/** Tensors joined along the last axis (the features). */
export function concatenate(inputs: readonly SymbolicTensor[], options: { readonly name?: string } = {}): SymbolicTensor {
  return applicable(concatenateLayer, { type: 'concatenate' }).apply(inputs, options);
}

/**
 * A model input of per-sample `shape` — `[features]`, `[steps, features]` or `[height, width,
 * channels]` (channels last) — a Sequential model's `input`, and the symbolic tensor the
 * functional API starts from (name it there: it keys the data, e.g. `{ wide: ..., deep: ... }`).
 */
export function input(shape: readonly number[], options: { readonly name?: string; readonly dtype?: 'float32' | 'int32' } = {}): SymbolicTensor {
  return symbolicInput(shape, options.name, options.dtype);
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
  const shortcut = x.shape.length === 1 && x.width === units ? x : dense(units, { ...named('projection'), useBias: false }).apply(x);
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
  /** `input([features], { name })` (or `[h, w, c]`, `[steps, features]`), or the plain `{ shape, name }`. */
  readonly input: ModelSpecInput['input'];
  /** Layer builders' results (`dense(8)`) or their plain data (`{ type: 'dense', units: 8 }`). */
  readonly layers: ModelSpecInput['layers'];
  readonly loss: ModelSpecInput['loss'];
  readonly optimizer?: ModelSpecInput['optimizer'];
  /** The compiled maximum rows per step. Default 32 (Keras). */
  readonly batchSize?: number;
  readonly seed?: number;
}

/** A validated Sequential model spec, with every default filled in. Throws SpecError naming the bad field. */
export function sequential(config: SequentialConfig): SequentialSpec {
  const { shape, name, dtype } = config.input;
  return parseSpec({ ...config, input: { shape: [...shape], ...(name !== undefined ? { name } : {}), ...(dtype !== undefined ? { dtype } : {}) }, layers: [...config.layers] }) as SequentialSpec;
}
