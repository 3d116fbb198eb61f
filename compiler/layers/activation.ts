// Keras's Activation layer: applies an activation to the previous layer's output.
import { activate, Activation, activationType } from '../model/activations.ts';
import { defineLayer } from './layer.ts';
import { KerasFieldError } from './interop/types.ts';
import { activationFromKeras, activationToKeras, field, lastAxis } from './interop/keras.ts';
import { onnxActivation } from './interop/onnx.ts';

export const activationLayer = defineLayer({
  type: 'activation',
  mask: 'pass',
  options: { activation: Activation },
  activation: (o) => o.activation,
  outputShape: (_o, [x]) => x!,
  lower: ({ b, options, inputs }) => ({ output: activate(b, inputs[0]!, options.activation), preActivation: inputs[0]!, activation: activationType(options.activation) }),
  describe: (o) => `activation (${activationType(o.activation)})`,
  keras: {
    className: 'Activation',
    // Keras's activation layers besides Activation read as one, their options carried over.
    fromKeras: {
      Activation: (c) => ({ activation: activationFromKeras(c) }),
      ReLU: (c) => {
        if (c['max_value'] != null || field(c, 'threshold', 'number', 0) !== 0 || field(c, 'negative_slope', 'number', 0) !== 0) {
          throw new KerasFieldError('max_value', 'ReLU with max_value, threshold or negative_slope is not supported');
        }
        return { activation: 'relu' };
      },
      LeakyReLU: (c) => ({ activation: { type: 'leaky_relu', alpha: field(c, 'negative_slope', 'number', field(c, 'alpha', 'number', 0.3)) } }),
      ELU: (c) => ({ activation: { type: 'elu', alpha: field(c, 'alpha', 'number', 1) } }),
      Softmax: (c) => {
        lastAxis(c);
        return { activation: 'softmax' };
      },
    },
    toKeras: (o) => ({ activation: activationToKeras(o.activation) }),
    weights: () => [],
  },
  torch: { forward: (o, [x]) => ({ pre: x!, activation: o.activation }) },
  onnx: { lower: (g, o, [x]) => onnxActivation(g, o.activation, x!) },
});
