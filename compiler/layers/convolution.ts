// Keras's Conv1D and Conv2D, one definition for both: channels-last input ([steps, c] or
// [h, w, c]) → [positions..., filters]. The kernel is [filters, in, (kh,) kw], PyTorch's
// nn.Conv1d / nn.Conv2d layout, so weights and checkpoints exchange with torch directly; Keras's
// kernel is [(kh,) kw, in, filters]. Lowered to im2col + the packed GEMM with the bias and
// activation in its epilogue (conv_window.ts).
import { z } from 'zod';
import { Initializer } from '../init/initializers.ts';
import { activate, Activation, activationType } from '../model/activations.ts';
import { convFans, convolve, kerasWindow, kerasWindowConfig, positions, windowOf, windowOptions } from './conv_window.ts';
import { positiveInt } from './fields.ts';
import { field, weightedFromKeras, weightedToKeras } from './interop/keras.ts';
import { KerasFieldError } from './interop/types.ts';
import { onnxActivation } from './interop/onnx.ts';
import { onnxPads, onnxWindowed, pyTuple, torchWindowed } from './interop/windowed.ts';
import { defineLayer } from './layer.ts';

/** Keras's kernel and its initializer option. */
const KERNEL = [{ keras: 'kernel', option: 'kernelInitializer' }] as const;

/** The convolution layer over `axes` spatial axes, named `type` in specs and `className` in Keras. */
export function convolutionLayer<const T extends string>(type: T, axes: 1 | 2, className: string) {
  return defineLayer({
    type,
    options: {
      filters: positiveInt,
      ...windowOptions,
      activation: Activation.default('linear'),
      useBias: z.boolean().default(true),
      kernelInitializer: Initializer.default({ type: 'glorot_uniform' }),
      biasInitializer: Initializer.default({ type: 'zeros' }),
    },
    activation: (o) => o.activation,
    outputShape: (o, [x]) => [...positions(x!, windowOf(type, o, x!, axes)), o.filters],
    params: (o, [x]) => {
      const { kernel } = windowOf(type, o, x!, axes);
      const channels = x![axes]!;
      return [
        { suffix: 'weight', shape: [o.filters, channels, ...kernel], init: o.kernelInitializer, fans: convFans(kernel, channels, o.filters) },
        ...(o.useBias ? [{ suffix: 'bias', shape: [o.filters], init: o.biasInitializer }] : []),
      ];
    },
    lower: ({ b, options, inputs, inputShapes, params }) => {
      const z = convolve(b, inputs[0]!, windowOf(type, options, inputShapes[0]!, axes), params['weight']!, params['bias'] ?? null);
      return { output: activate(b, z, options.activation), preActivation: z, activation: activationType(options.activation) };
    },
    describe: (o) => (activationType(o.activation) === 'linear' ? type : `${type} (${activationType(o.activation)})`),
    keras: {
      className,
      fromKeras: {
        [className]: (c) => {
          if ((c['groups'] ?? 1) !== 1) throw new KerasFieldError('groups', 'grouped convolutions are not supported (groups must be 1); depthwise_conv2d is groups = channels');
          return {
            filters: field(c, 'filters', 'number'),
            ...kerasWindow(c),
            ...weightedFromKeras(c, KERNEL),
          };
        },
      },
      toKeras: (o) => ({
        filters: o.filters,
        ...kerasWindowConfig(o),
        ...weightedToKeras(o, KERNEL),
      }),
      // Keras's kernel [(kh,) kw, in, filters] is nabla's [filters, in, (kh,) kw] with the spatial axes first.
      weights: (o) => [
        { keras: 'kernel', suffix: 'weight', permutation: axes === 2 ? [2, 3, 1, 0] : [2, 1, 0] },
        ...(o.useBias ? [{ keras: 'bias', suffix: 'bias' }] : []),
      ],
    },
    // nn.Conv1d / nn.Conv2d without padding of its own: the forward pads per side (TensorFlow's 'same').
    torch: {
      module: (o, [x]) => {
        const w = windowOf(type, o, x!, axes);
        return `nn.Conv${axes}d(${x![axes]}, ${o.filters}, ${pyTuple(w.kernel)}, stride=${pyTuple(w.strides)}, dilation=${pyTuple(w.dilation)}, bias=${o.useBias ? 'True' : 'False'})`;
      },
      forward: (o, [x], self, [shape]) => ({ pre: torchWindowed(self, x!, windowOf(type, o, shape!, axes).pads), activation: o.activation }),
    },
    onnx: {
      lower: (g, o, [x], params, [shape]) => {
        const w = windowOf(type, o, shape!, axes);
        const inputs = [params['weight']!, ...(params['bias'] === undefined ? [] : [params['bias']])];
        const z = onnxWindowed(g, x!, axes, (t) => g.node('Conv', [t, ...inputs], { kernel_shape: w.kernel, strides: w.strides, dilations: w.dilation, pads: onnxPads(w.pads) }));
        return onnxActivation(g, o.activation, z);
      },
    },
  });
}
