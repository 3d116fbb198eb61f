// Keras's Activation layer: applies an activation to the previous layer's output.
import { activate, Activation, activationType } from '../model/activations.ts';
import { defineLayer } from './layer.ts';

export const activationLayer = defineLayer({
  type: 'activation',
  options: { activation: Activation },
  activation: (o) => o.activation,
  outputShape: (_o, [x]) => x!,
  lower: ({ b, options, inputs }) => ({ output: activate(b, inputs[0]!, options.activation), preActivation: inputs[0]!, activation: activationType(options.activation) }),
  describe: (o) => `activation (${activationType(o.activation)})`,
});
