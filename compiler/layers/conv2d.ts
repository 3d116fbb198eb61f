// Keras's Conv2D on channels-last images [h, w, c] → [oh, ow, filters]. The kernel is
// [filters, in, kh, kw], PyTorch's nn.Conv2d layout, so weights and checkpoints exchange with
// torch directly; Keras's kernel is [kh, kw, in, filters]. Lowered to im2col + the packed GEMM
// with the bias and activation in its epilogue (conv_window.ts).
import { z } from 'zod';
import { Initializer } from '../init/initializers.ts';
import { activate, Activation, activationType } from '../model/activations.ts';
import { convFans, convolve, positions, windowOf, windowOptions } from './conv_window.ts';
import { positiveInt } from './fields.ts';
import { activationFromKeras, activationToKeras, field, initializerFromKeras, initializerToKeras, refuseExtras } from './interop/keras.ts';
import { KerasFieldError, type KerasConfig } from './interop/types.ts';
import { defineLayer } from './layer.ts';

/** A Keras size field (a number or a list) as nabla's option. */
export function kerasSizes(c: KerasConfig, key: string, fallback?: number): number | number[] {
  const value = c[key] ?? fallback;
  if (typeof value === 'number') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return value as number[];
  throw new KerasFieldError(key, `expected ${key} to be a number or a list of numbers, got ${JSON.stringify(value)}`);
}

/** Keras's data_format field: channels_last (or absent), else refused. */
export function kerasWindowFormat(c: KerasConfig): void {
  const format = c['data_format'];
  if (format !== undefined && format !== null && format !== 'channels_last') throw new KerasFieldError('data_format', `data_format '${String(format)}' is not supported: nabla's images are channels_last`);
}

/** Keras's channels_last and padding fields, refused where nabla has no equivalent. */
export function kerasWindow(c: KerasConfig, dilationKey = 'dilation_rate'): Record<string, unknown> {
  kerasWindowFormat(c);
  const padding = field<string>(c, 'padding', 'string', 'valid');
  if (padding !== 'valid' && padding !== 'same') throw new KerasFieldError('padding', `padding '${padding}' is not supported: 'valid' or 'same'`);
  return { kernelSize: kerasSizes(c, 'kernel_size'), strides: kerasSizes(c, 'strides', 1), padding, dilationRate: kerasSizes(c, dilationKey, 1) };
}

export const conv2dLayer = defineLayer({
  type: 'conv2d',
  options: {
    filters: positiveInt,
    ...windowOptions,
    activation: Activation.default('linear'),
    useBias: z.boolean().default(true),
    kernelInitializer: Initializer.default({ type: 'glorot_uniform' }),
    biasInitializer: Initializer.default({ type: 'zeros' }),
  },
  activation: (o) => o.activation,
  outputShape: (o, [x]) => [...positions(x!, windowOf('conv2d', o, x!, 2)), o.filters],
  params: (o, [x]) => {
    const { kernel } = windowOf('conv2d', o, x!, 2);
    const channels = x![2]!;
    return [
      { suffix: 'weight', shape: [o.filters, channels, ...kernel], init: o.kernelInitializer, fans: convFans(kernel, channels, o.filters) },
      ...(o.useBias ? [{ suffix: 'bias', shape: [o.filters], init: o.biasInitializer }] : []),
    ];
  },
  lower: ({ b, options, inputs, inputShapes, params }) => {
    const z = convolve(b, inputs[0]!, windowOf('conv2d', options, inputShapes[0]!, 2), params['weight']!, params['bias'] ?? null);
    return { output: activate(b, z, options.activation), preActivation: z, activation: activationType(options.activation) };
  },
  describe: (o) => (activationType(o.activation) === 'linear' ? 'conv2d' : `conv2d (${activationType(o.activation)})`),
  keras: {
    className: 'Conv2D',
    fromKeras: {
      Conv2D: (c) => {
        refuseExtras(c, ['kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint']);
        if ((c['groups'] ?? 1) !== 1) throw new KerasFieldError('groups', 'grouped convolutions are not supported (groups must be 1); use depthwise_conv2d for groups = channels');
        return {
          filters: field(c, 'filters', 'number'),
          ...kerasWindow(c),
          activation: activationFromKeras(c),
          useBias: field(c, 'use_bias', 'boolean', true),
          kernelInitializer: initializerFromKeras(c, 'kernel_initializer', { type: 'glorot_uniform' }),
          biasInitializer: initializerFromKeras(c, 'bias_initializer', { type: 'zeros' }),
        };
      },
    },
    toKeras: (o) => ({
      filters: o.filters,
      kernel_size: o.kernelSize,
      strides: o.strides,
      padding: o.padding,
      data_format: 'channels_last',
      dilation_rate: o.dilationRate,
      activation: activationToKeras(o.activation),
      use_bias: o.useBias,
      kernel_initializer: initializerToKeras(o.kernelInitializer),
      bias_initializer: initializerToKeras(o.biasInitializer),
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    }),
    // Keras's kernel [kh, kw, in, filters] is nabla's [filters, in, kh, kw] with axes (2, 3, 1, 0).
    weights: (o) => [{ keras: 'kernel', suffix: 'weight', permutation: [2, 3, 1, 0] }, ...(o.useBias ? [{ keras: 'bias', suffix: 'bias' }] : [])],
  },
});
