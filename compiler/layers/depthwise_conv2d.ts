// Keras's DepthwiseConv2D: each channel of [h, w, c] convolved with depthMultiplier filters of
// its own → [oh, ow, c·depthMultiplier]. The kernel is [c·M, 1, kh, kw], torch.nn.Conv2d with
// groups = c (depthwise.ts computes it).
import { z } from 'zod';
import { Initializer } from '../init/initializers.ts';
import { activate, Activation, activationType } from '../model/activations.ts';
import { convFans, kerasWindow, kerasWindowConfig, positions, windowOf, windowOptions } from './conv_window.ts';
import { depthwise } from './depthwise.ts';
import { positiveInt } from './fields.ts';
import { field, weightedFromKeras, weightedToKeras } from './interop/keras.ts';
import { onnxActivation } from './interop/onnx.ts';
import { onnxPads, onnxWindowed, pyTuple, torchWindowed } from './interop/windowed.ts';
import { defineLayer } from './layer.ts';

/** Keras's depthwise kernel and its initializer option. */
const DEPTHWISE_KERNEL = [{ keras: 'depthwise', option: 'depthwiseInitializer' }] as const;

export const depthwiseConv2dLayer = defineLayer({
  type: 'depthwise_conv2d',
  options: {
    ...windowOptions,
    depthMultiplier: positiveInt.default(1),
    activation: Activation.default('linear'),
    useBias: z.boolean().default(true),
    depthwiseInitializer: Initializer.default({ type: 'glorot_uniform' }),
    biasInitializer: Initializer.default({ type: 'zeros' }),
  },
  activation: (o) => o.activation,
  outputShape: (o, [x]) => [...positions(x!, windowOf('depthwise_conv2d', o, x!, 2)), x![2]! * o.depthMultiplier],
  params: (o, [x]) => {
    const { kernel } = windowOf('depthwise_conv2d', o, x!, 2);
    const width = x![2]! * o.depthMultiplier;
    // Keras's fans of its [kh, kw, c, M] kernel: receptive field × c in, × M out.
    return [
      { suffix: 'weight', shape: [width, 1, ...kernel], init: o.depthwiseInitializer, fans: convFans(kernel, x![2]!, o.depthMultiplier) },
      ...(o.useBias ? [{ suffix: 'bias', shape: [width], init: o.biasInitializer }] : []),
    ];
  },
  lower: ({ b, options, inputs, inputShapes, params }) => {
    const window = windowOf('depthwise_conv2d', options, inputShapes[0]!, 2);
    const summed = depthwise(b, inputs[0]!, inputShapes[0]!, window, params['weight']!, options.depthMultiplier);
    const z = params['bias'] === undefined ? summed : b.op('add', [summed, params['bias']]);
    return { output: activate(b, z, options.activation), preActivation: z, activation: activationType(options.activation) };
  },
  describe: (o) => (activationType(o.activation) === 'linear' ? 'depthwise_conv2d' : `depthwise_conv2d (${activationType(o.activation)})`),
  keras: {
    className: 'DepthwiseConv2D',
    fromKeras: {
      DepthwiseConv2D: (c) => {
        return {
          ...kerasWindow(c),
          depthMultiplier: field(c, 'depth_multiplier', 'number', 1),
          ...weightedFromKeras(c, DEPTHWISE_KERNEL),
        };
      },
    },
    toKeras: (o) => ({
      ...kerasWindowConfig(o),
      depth_multiplier: o.depthMultiplier,
      ...weightedToKeras(o, DEPTHWISE_KERNEL),
    }),
    // Keras's depthwise kernel [kh, kw, c, M] is nabla's [c·M, 1, kh, kw] with axes (2, 3, 0, 1):
    // the same values in the same order for any M, the same shape for M = 1 (the importer
    // compares shapes, so a Keras file with depth_multiplier > 1 is refused).
    weights: (o) => [{ keras: 'depthwise_kernel', suffix: 'weight', permutation: [2, 3, 0, 1] }, ...(o.useBias ? [{ keras: 'bias', suffix: 'bias' }] : [])],
  },
  // nn.Conv2d with groups = channels, its weight [c·M, 1, kh, kw] nabla's; padded per side by the forward.
  torch: {
    module: (o, [x]) => {
      const w = windowOf('depthwise_conv2d', o, x!, 2);
      const channels = x![2]!;
      return `nn.Conv2d(${channels}, ${channels * o.depthMultiplier}, ${pyTuple(w.kernel)}, stride=${pyTuple(w.strides)}, dilation=${pyTuple(w.dilation)}, groups=${channels}, bias=${o.useBias ? 'True' : 'False'})`;
    },
    forward: (o, [x], self, [shape]) => ({ pre: torchWindowed(self, x!, windowOf('depthwise_conv2d', o, shape!, 2).pads), activation: o.activation }),
  },
  onnx: {
    lower: (g, o, [x], params, [shape]) => {
      const w = windowOf('depthwise_conv2d', o, shape!, 2);
      const inputs = [params['weight']!, ...(params['bias'] === undefined ? [] : [params['bias']])];
      const attributes = { kernel_shape: w.kernel, strides: w.strides, dilations: w.dilation, pads: onnxPads(w.pads), group: shape![2]! };
      return onnxActivation(g, o.activation, onnxWindowed(g, x!, 2, (t) => g.node('Conv', [t, ...inputs], attributes)));
    },
  },
});
