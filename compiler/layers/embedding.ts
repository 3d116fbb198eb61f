// Keras's Embedding: each integer token id picks its row of a learned [inputDim, outputDim] table,
// so ids [steps] become vectors [steps, outputDim]. The table is laid out as PyTorch's
// nn.Embedding.weight and Keras's `embeddings`, [inputDim, outputDim]. It reads an int32 input
// (dtype 'int32' in the spec); the runtime refuses ids outside [0, inputDim) before a step.
//
// maskZero (Keras's mask_zero): id 0 is padding. The layer then also makes the mask [N, steps], 1
// where the id is not 0, which later layers pass on or read (docs/layers.md, "Masking"); row 0 of
// the table is still an ordinary, trained row, as in Keras.
import { z } from 'zod';
import { Initializer } from '../init/initializers.ts';
import { positiveInt } from './fields.ts';
import { field, initializerFromKeras, initializerToKeras, refuseExtras } from './interop/keras.ts';
import { FormError } from './interop/types.ts';
import { defineLayer, LayerShapeError } from './layer.ts';

/** Keras's default: RandomUniform(-0.05, 0.05). */
const KERAS_UNIFORM = { type: 'random_uniform', minval: -0.05, maxval: 0.05 } as const;

/** The ids' expression, or a FormError for maskZero, which PyTorch and ONNX cannot carry on. */
function unmasked(o: { readonly maskZero: boolean }, ids: string): string {
  if (o.maskZero) throw new FormError('maskZero has no PyTorch or ONNX form (their layers take no mask); export without it');
  return ids;
}

export const embeddingLayer = defineLayer({
  type: 'embedding',
  options: {
    inputDim: positiveInt.max(1 << 24, { error: 'inputDim above 2^24 (ids must be exact in float32)' }),
    outputDim: positiveInt,
    embeddingsInitializer: Initializer.default(KERAS_UNIFORM),
    /** Keras's mask_zero: id 0 is padding, masked out of the layers after this one. */
    maskZero: z.boolean().default(false),
  },
  tokenIds: (o) => o.inputDim,
  makesMask: (o) => o.maskZero,
  outputShape: (o, [x]) => {
    if (x!.length > 2) throw new LayerShapeError(`embedding takes ids of rank 1 or 2 per sample ([steps] or [rows, steps]), got rank ${x!.length}`);
    if (o.maskZero && x!.length !== 1) throw new LayerShapeError(`embedding with maskZero masks steps: it takes ids [steps] (rank 1 per sample), got rank ${x!.length}`);
    return [...x!, o.outputDim];
  },
  params: (o) => [{ suffix: 'weight', shape: [o.inputDim, o.outputDim], init: o.embeddingsInitializer }],
  lower: ({ b, options, inputs, params }) => {
    const output = b.op('gather_rows', [params['weight']!, inputs[0]!]);
    return options.maskZero ? { output, mask: b.op('nonzero', [inputs[0]!]) } : output;
  },
  describe: (o) => `embedding (${o.inputDim} ids${o.maskZero ? ', 0 masked' : ''})`,
  keras: {
    className: 'Embedding',
    fromKeras: {
      Embedding: (c) => {
        refuseExtras(c, ['embeddings_regularizer', 'activity_regularizer', 'embeddings_constraint']);
        return {
          inputDim: field(c, 'input_dim', 'number'),
          outputDim: field(c, 'output_dim', 'number'),
          embeddingsInitializer: initializerFromKeras(c, 'embeddings_initializer', KERAS_UNIFORM),
          maskZero: field(c, 'mask_zero', 'boolean', false),
        };
      },
    },
    toKeras: (o) => ({ input_dim: o.inputDim, output_dim: o.outputDim, embeddings_initializer: initializerToKeras(o.embeddingsInitializer), mask_zero: o.maskZero }),
    weights: () => [{ keras: 'embeddings', suffix: 'weight' }],
  },
  // PyTorch and ONNX modules have no masks: the layers after this one would read the padding.
  torch: {
    module: (o) => `nn.Embedding(${o.inputDim}, ${o.outputDim})`,
    forward: (o, [x], self) => `${self}(${unmasked(o, x!)}.long())`,
  },
  onnx: { lower: (g, o, [x], params) => g.node('Gather', [params['weight']!, unmasked(o, x!)], { axis: 0 }) },
});
