// Keras's Dense: z = a·Wᵀ + b, then the activation. The weight is [units, in] as PyTorch's
// nn.Linear stores it; Keras's defaults (glorot_uniform kernel, zero bias). On [steps, features]
// (any rank) it applies to the last axis at every position, as Keras's Dense and nn.Linear do: a
// language model's head giving [steps, vocabulary], a loss per position.
import { z } from 'zod';
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';
import { Initializer } from '../init/initializers.ts';
import { activate, Activation, activationType } from '../model/activations.ts';
import { positiveInt } from './fields.ts';
import { activationFromKeras, activationToKeras, field, initializerFromKeras, initializerToKeras, refuseExtras } from './interop/keras.ts';
import { onnxActivation } from './interop/onnx.ts';
import { channelsOf, defineLayer } from './layer.ts';

/** z = a·Wᵀ + b for a of [N, in], W of [units, in]. */
export function affine(b: GraphBuilder, a: NodeId, weight: NodeId, bias: NodeId | null): NodeId {
  const z = b.op('matmul', [a, weight], { transB: true });
  return bias === null ? z : b.op('add', [z, bias]);
}

export const denseLayer = defineLayer({
  type: 'dense',
  options: {
    units: positiveInt,
    activation: Activation.default('linear'),
    useBias: z.boolean().default(true),
    kernelInitializer: Initializer.default({ type: 'glorot_uniform' }),
    biasInitializer: Initializer.default({ type: 'zeros' }),
  },
  activation: (o) => o.activation,
  outputShape: (o, [x]) => {
    channelsOf('dense', x!);
    return [...x!.slice(0, -1), o.units];
  },
  params: (o, [x]) => [
    { suffix: 'weight', shape: [o.units, channelsOf('dense', x!)], init: o.kernelInitializer },
    ...(o.useBias ? [{ suffix: 'bias', shape: [o.units], init: o.biasInitializer }] : []),
  ],
  lower: ({ b, options, inputs, params }) => {
    const z = affine(b, inputs[0]!, params['weight']!, params['bias'] ?? null);
    return { output: activate(b, z, options.activation), preActivation: z, activation: activationType(options.activation) };
  },
  describe: (o) => (activationType(o.activation) === 'linear' ? 'dense' : `dense (${activationType(o.activation)})`),
  keras: {
    className: 'Dense',
    fromKeras: {
      Dense: (c) => {
        refuseExtras(c, ['kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint']);
        return {
          units: field(c, 'units', 'number'),
          activation: activationFromKeras(c),
          useBias: field(c, 'use_bias', 'boolean', true),
          kernelInitializer: initializerFromKeras(c, 'kernel_initializer', { type: 'glorot_uniform' }),
          biasInitializer: initializerFromKeras(c, 'bias_initializer', { type: 'zeros' }),
        };
      },
    },
    toKeras: (o) => ({
      units: o.units,
      activation: activationToKeras(o.activation),
      use_bias: o.useBias,
      kernel_initializer: initializerToKeras(o.kernelInitializer),
      bias_initializer: initializerToKeras(o.biasInitializer),
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    }),
    // Keras's kernel is [in, units]: nabla's weight transposed.
    weights: (o) => [{ keras: 'kernel', suffix: 'weight', permutation: [1, 0] }, ...(o.useBias ? [{ keras: 'bias', suffix: 'bias' }] : [])],
  },
  torch: {
    module: (o, [x]) => `nn.Linear(${x!.at(-1)}, ${o.units}, bias=${o.useBias ? 'True' : 'False'})`,
    forward: (o, [x], self) => ({ pre: `${self}(${x})`, activation: o.activation }),
  },
  onnx: {
    lower: (g, o, [x], params, [shape]) => {
      // Gemm takes matrices; per position, MatMul by the transposed weight broadcasts over the steps.
      const weight = params['weight']!;
      const bias = params['bias'];
      if (shape!.length === 1) return onnxActivation(g, o.activation, g.node('Gemm', bias === undefined ? [x!, weight] : [x!, weight, bias], { transB: 1 }));
      const product = g.node('MatMul', [x!, g.node('Transpose', [weight], { perm: [1, 0] })]);
      return onnxActivation(g, o.activation, bias === undefined ? product : g.node('Add', [product, bias]));
    },
  },
});
