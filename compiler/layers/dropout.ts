// Keras's Dropout: in training, zeroes each element with probability `rate` and scales the rest by
// 1/(1 − rate); the identity in inference. The mask is drawn from the layer's own random stream and
// the step counter, so interpreter and trainer draw the same masks, and each step a new one.
import { BATCH } from '../ir/types.ts';
import { f32Fraction } from '../model/numbers.ts';
import { defineLayer } from './layer.ts';
import { KerasFieldError } from './interop/types.ts';
import { field } from './interop/keras.ts';
import { py } from './interop/torch.ts';

export const dropoutLayer = defineLayer({
  type: 'dropout',
  mask: 'pass',
  options: { rate: f32Fraction },
  // Two applications would draw one mask from one stream: not the independent masks a user means.
  shareable: false,
  trainingDiffers: true,
  random: true,
  outputShape: (_o, [x]) => x!,
  lower: ({ b, options, inputs, inputShapes, training, randomness }) => {
    if (!training || options.rate === 0) return inputs[0]!;
    const { seed, stream, step } = randomness();
    const mask = b.op('dropout_mask', [step], { rate: options.rate, seed, stream, shape: [BATCH, ...inputShapes[0]!] });
    return b.op('mul', [inputs[0]!, mask]);
  },
  describe: (o) => `dropout (${o.rate})`,
  keras: {
    className: 'Dropout',
    fromKeras: {
      Dropout: (c) => {
        if (c['noise_shape'] != null) throw new KerasFieldError('noise_shape', 'dropout with a noise_shape is not supported');
        return { rate: field(c, 'rate', 'number') };
      },
    },
    toKeras: (o) => ({ rate: o.rate, noise_shape: null, seed: null }),
    weights: () => [],
  },
  torch: { forward: (o, [x]) => `F.dropout(${x}, ${py(o.rate)}, self.training)` },
  // Inference: the identity.
  onnx: { lower: (_g, _o, [x]) => x! },
});
