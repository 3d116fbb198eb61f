// Keras's Embedding: each integer token id picks its row of a learned [inputDim, outputDim] table,
// so ids [steps] become vectors [steps, outputDim]. The table is laid out as PyTorch's
// nn.Embedding.weight and Keras's `embeddings`, [inputDim, outputDim]. It reads an int32 input
// (dtype 'int32' in the spec); the runtime refuses ids outside [0, inputDim) before a step.
import { z } from 'zod';
import { Initializer } from '../init/initializers.ts';
import { positiveInt } from './fields.ts';
import { field, initializerFromKeras, initializerToKeras, refuseExtras } from './interop/keras.ts';
import { KerasFieldError } from './interop/types.ts';
import { defineLayer, LayerShapeError } from './layer.ts';

/** Keras's default: RandomUniform(-0.05, 0.05). */
const KERAS_UNIFORM = { type: 'random_uniform', minval: -0.05, maxval: 0.05 } as const;

export const embeddingLayer = defineLayer({
  type: 'embedding',
  options: {
    inputDim: positiveInt.max(1 << 24, { error: 'inputDim above 2^24 (ids must be exact in float32)' }),
    outputDim: positiveInt,
    embeddingsInitializer: Initializer.default(KERAS_UNIFORM),
    /** Keras's mask_zero: id 0 as padding masked out of later layers. Not supported: only false. */
    maskZero: z.literal(false, { error: 'maskZero is not supported: pad with an id of its own and let the model learn it' }).default(false),
  },
  tokenIds: (o) => o.inputDim,
  outputShape: (o, [x]) => {
    if (x!.length > 2) throw new LayerShapeError(`embedding takes ids of rank 1 or 2 per sample ([steps] or [rows, steps]), got rank ${x!.length}`);
    return [...x!, o.outputDim];
  },
  params: (o) => [{ suffix: 'weight', shape: [o.inputDim, o.outputDim], init: o.embeddingsInitializer }],
  lower: ({ b, inputs, params }) => b.op('gather_rows', [params['weight']!, inputs[0]!]),
  describe: (o) => `embedding (${o.inputDim} ids)`,
  keras: {
    className: 'Embedding',
    fromKeras: {
      Embedding: (c) => {
        refuseExtras(c, ['embeddings_regularizer', 'activity_regularizer', 'embeddings_constraint']);
        if (c['mask_zero'] === true) throw new KerasFieldError('mask_zero', 'Embedding with mask_zero is not supported');
        return {
          inputDim: field(c, 'input_dim', 'number'),
          outputDim: field(c, 'output_dim', 'number'),
          embeddingsInitializer: initializerFromKeras(c, 'embeddings_initializer', KERAS_UNIFORM),
        };
      },
    },
    toKeras: (o) => ({ input_dim: o.inputDim, output_dim: o.outputDim, embeddings_initializer: initializerToKeras(o.embeddingsInitializer), mask_zero: false }),
    weights: () => [{ keras: 'embeddings', suffix: 'weight' }],
  },
  torch: {
    module: (o) => `nn.Embedding(${o.inputDim}, ${o.outputDim})`,
    forward: (_o, [x], self) => `${self}(${x}.long())`,
  },
  onnx: { lower: (g, _o, [x], params) => g.node('Gather', [params['weight']!, x!], { axis: 0 }) },
});
