// Keras's SeparableConv2D: a depthwise convolution (depthwise.ts, no bias) then a 1×1 convolution
// to `filters` channels with the bias and activation (the GEMM with its epilogue). Kernels in
// PyTorch's layout, as the two torch.nn.Conv2d of a separable block hold them: depthwise
// [c·M, 1, kh, kw] (groups = c) and pointwise [filters, c·M, 1, 1].
import { z } from 'zod';
import { Initializer } from '../init/initializers.ts';
import { activate, Activation, activationType } from '../model/activations.ts';
import { convFans, convolve, kerasWindow, kerasWindowConfig, positions, windowOf, windowOptions } from './conv_window.ts';
import { depthwise } from './depthwise.ts';
import { positiveInt } from './fields.ts';
import { field, weightedFromKeras, weightedToKeras } from './interop/keras.ts';
import { onnxActivation } from './interop/onnx.ts';
import { onnxPads, onnxWindowed, pyTuple, torchWindowed } from './interop/windowed.ts';
import { defineLayer } from './layer.ts';

/** Keras's depthwise and pointwise kernels and their initializer options. */
const KERNELS = [
  { keras: 'depthwise', option: 'depthwiseInitializer' },
  { keras: 'pointwise', option: 'pointwiseInitializer' },
] as const;

const POINTWISE = { kernel: [1, 1], strides: [1, 1], dilation: [1, 1], pads: [[0, 0], [0, 0]] as [number, number][] };

export const separableConv2dLayer = defineLayer({
  type: 'separable_conv2d',
  options: {
    filters: positiveInt,
    ...windowOptions,
    depthMultiplier: positiveInt.default(1),
    activation: Activation.default('linear'),
    useBias: z.boolean().default(true),
    depthwiseInitializer: Initializer.default({ type: 'glorot_uniform' }),
    pointwiseInitializer: Initializer.default({ type: 'glorot_uniform' }),
    biasInitializer: Initializer.default({ type: 'zeros' }),
  },
  activation: (o) => o.activation,
  outputShape: (o, [x]) => [...positions(x!, windowOf('separable_conv2d', o, x!, 2)), o.filters],
  params: (o, [x]) => {
    const { kernel } = windowOf('separable_conv2d', o, x!, 2);
    const width = x![2]! * o.depthMultiplier;
    return [
      { suffix: 'depthwise_weight', shape: [width, 1, ...kernel], init: o.depthwiseInitializer, fans: convFans(kernel, x![2]!, o.depthMultiplier) },
      { suffix: 'pointwise_weight', shape: [o.filters, width, 1, 1], init: o.pointwiseInitializer, fans: convFans([1, 1], width, o.filters) },
      ...(o.useBias ? [{ suffix: 'bias', shape: [o.filters], init: o.biasInitializer }] : []),
    ];
  },
  lower: ({ b, options, inputs, inputShapes, params }) => {
    const window = windowOf('separable_conv2d', options, inputShapes[0]!, 2);
    const spread = depthwise(b, inputs[0]!, inputShapes[0]!, window, params['depthwise_weight']!, options.depthMultiplier);
    const z = convolve(b, spread, POINTWISE, params['pointwise_weight']!, params['bias'] ?? null);
    return { output: activate(b, z, options.activation), preActivation: z, activation: activationType(options.activation) };
  },
  describe: (o) => (activationType(o.activation) === 'linear' ? 'separable_conv2d' : `separable_conv2d (${activationType(o.activation)})`),
  keras: {
    className: 'SeparableConv2D',
    fromKeras: {
      SeparableConv2D: (c) => {
        return {
          filters: field(c, 'filters', 'number'),
          ...kerasWindow(c),
          depthMultiplier: field(c, 'depth_multiplier', 'number', 1),
          ...weightedFromKeras(c, KERNELS),
        };
      },
    },
    toKeras: (o) => ({
      filters: o.filters,
      ...kerasWindowConfig(o),
      depth_multiplier: o.depthMultiplier,
      ...weightedToKeras(o, KERNELS),
    }),
    // Keras: depthwise [kh, kw, c, M] (see depthwise_conv2d.ts), pointwise [1, 1, c·M, filters].
    weights: (o) => [
      { keras: 'depthwise_kernel', suffix: 'depthwise_weight', permutation: [2, 3, 0, 1] },
      { keras: 'pointwise_kernel', suffix: 'pointwise_weight', permutation: [2, 3, 1, 0] },
      ...(o.useBias ? [{ keras: 'bias', suffix: 'bias' }] : []),
    ],
  },
  // The generated file's SeparableConv2d (compiler/interop/torch/preamble.ts) holds nabla's two kernels and bias by their names.
  torch: {
    module: (o, [x]) => {
      const w = windowOf('separable_conv2d', o, x!, 2);
      return `SeparableConv2d(${x![2]}, ${o.depthMultiplier}, ${o.filters}, ${pyTuple(w.kernel)}, ${pyTuple(w.strides)}, ${pyTuple(w.dilation)}, bias=${o.useBias ? 'True' : 'False'})`;
    },
    forward: (o, [x], self, [shape]) => ({ pre: torchWindowed(self, x!, windowOf('separable_conv2d', o, shape!, 2).pads), activation: o.activation }),
  },
  onnx: {
    lower: (g, o, [x], params, [shape]) => {
      const w = windowOf('separable_conv2d', o, shape!, 2);
      const depthwise = { kernel_shape: w.kernel, strides: w.strides, dilations: w.dilation, pads: onnxPads(w.pads), group: shape![2]! };
      const bias = params['bias'] === undefined ? [] : [params['bias']];
      const z = onnxWindowed(g, x!, 2, (t) => g.node('Conv', [g.node('Conv', [t, params['depthwise_weight']!], depthwise), params['pointwise_weight']!, ...bias], { kernel_shape: [1, 1] }));
      return onnxActivation(g, o.activation, z);
    },
  },
});
