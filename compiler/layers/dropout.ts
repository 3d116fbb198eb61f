// Keras's Dropout: in training, zeroes each element with probability `rate` and scales the rest by
// 1/(1 − rate); the identity in inference. The mask is drawn from the layer's own random stream and
// the step counter, so interpreter and trainer draw the same masks, and each step a new one.
import { BATCH } from '../ir/types.ts';
import { unitInterval } from './fields.ts';
import { defineLayer } from './layer.ts';

export const dropoutLayer = defineLayer({
  type: 'dropout',
  options: { rate: unitInterval },
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
});
