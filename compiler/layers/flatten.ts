// Keras's Flatten: each sample's values as one row, in row-major (channels-last) order, so an image
// [h, w, c] becomes [h·w·c] and a dense layer can read it. The data does not move: it is a view.
import { z } from 'zod';
import { BATCH } from '../ir/types.ts';
import { product } from '../../runtime/tensor.ts';
import { defineLayer } from './layer.ts';
import { KerasFieldError } from './interop/types.ts';
import { field } from './interop/keras.ts';

export const flattenLayer = defineLayer({
  type: 'flatten',
  options: {
    /** Keras's data_format; only channels-last, nabla's layout, is accepted. */
    dataFormat: z.literal('channels_last', { error: "expected 'channels_last' (nabla's layout)" }).default('channels_last'),
  },
  outputShape: (_o, [x]) => [product(x!)],
  lower: ({ b, inputs, inputShapes }) => (inputShapes[0]!.length === 1 ? inputs[0]! : b.op('reshape', [inputs[0]!], { shape: [BATCH, product(inputShapes[0]!)] })),
  keras: {
    className: 'Flatten',
    fromKeras: {
      Flatten: (c) => {
        const format = field(c, 'data_format', 'string', 'channels_last');
        if (format !== 'channels_last') throw new KerasFieldError('data_format', `Flatten with data_format '${format}' is not supported (nabla is channels-last)`);
        return {};
      },
    },
    toKeras: () => ({ data_format: 'channels_last' }),
    weights: () => [],
  },
  // nabla's tensors stay channels-last in the exported module too, so the order is the same.
  torch: { forward: (_o, [x]) => `torch.flatten(${x}, 1)` },
  onnx: { lower: (g, _o, [x]) => g.node('Flatten', [x!], { axis: 1 }) },
});
