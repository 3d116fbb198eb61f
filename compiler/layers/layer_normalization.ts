// Keras's LayerNormalization over the features of each row: (x − μ) / √(σ² + ε) · γ + β, with
// Keras's ε = 1e-3. γ and β are named `<layer>.weight` and `<layer>.bias` (PyTorch's names).
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';
import { f32Epsilon } from '../model/numbers.ts';
import { channelsOf, defineLayer } from './layer.ts';
import { onnxScaleShift, scaleShift, scaleShiftKerasWeights, scaleShiftOptions, scaleShiftParams } from './scale_shift.ts';
import { KerasFieldError } from './interop/types.ts';
import { field, lastAxis, refuseExtras } from './interop/keras.ts';
import { py } from './interop/torch.ts';

/**
 * Layer normalization over the last axis of [N, C] (and of [N, L, C], [N, H, W, C], each position on its own): (x − μ) / √(σ² + ε), then ·γ + β where given.
 * σ² is the biased variance, as Keras and PyTorch use. The normalization is one op (`layer_norm`, a row kernel, with its own
 * gradient op); γ and β are elementwise and fuse with what follows.
 */
export function layerNorm(b: GraphBuilder, x: NodeId, gamma: NodeId | null, beta: NodeId | null, epsilon: number): NodeId {
  return scaleShift(b, b.op('layer_norm', [x], { epsilon }), gamma, beta);
}

export const layerNormalizationLayer = defineLayer({
  type: 'layer_normalization',
  mask: 'pass',
  options: {
    epsilon: f32Epsilon.default(1e-3),
    ...scaleShiftOptions,
  },
  outputShape: (_o, [x]) => {
    channelsOf('layer_normalization', x!);
    return x!;
  },
  params: (o, [x]) => scaleShiftParams(o, [channelsOf('layer_normalization', x!)]),
  lower: ({ b, options, inputs, params }) => layerNorm(b, inputs[0]!, params['weight'] ?? null, params['bias'] ?? null, options.epsilon),
  keras: {
    className: 'LayerNormalization',
    fromKeras: {
      LayerNormalization: (c) => {
        lastAxis(c);
        refuseExtras(c, ['beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint']);
        if (c['rms_scaling'] === true) throw new KerasFieldError('rms_scaling', 'RMS scaling is not supported');
        return { epsilon: field(c, 'epsilon', 'number', 1e-3), center: field(c, 'center', 'boolean', true), scale: field(c, 'scale', 'boolean', true) };
      },
    },
    toKeras: (o) => ({
      axis: -1,
      epsilon: o.epsilon,
      center: o.center,
      scale: o.scale,
      beta_initializer: { class_name: 'Zeros', config: {} },
      gamma_initializer: { class_name: 'Ones', config: {} },
      beta_regularizer: null,
      gamma_regularizer: null,
    }),
    weights: scaleShiftKerasWeights,
  },
  // nn.LayerNorm has γ and β both or neither; the generated LayerNorm takes each on its own.
  torch: {
    module: (o, [x]) => `LayerNorm(${x!.at(-1)}, eps=${py(o.epsilon)}, center=${o.center ? 'True' : 'False'}, scale=${o.scale ? 'True' : 'False'})`,
    forward: (_o, [x], self) => `${self}(${x})`,
  },
  onnx: {
    lower: (g, o, [x], params) => {
      const mean = (t: string): string => g.node('ReduceMean', [t], { axes: [-1], keepdims: 1 });
      const centered = g.node('Sub', [x!, mean(x!)]);
      const variance = mean(g.node('Mul', [centered, centered]));
      return onnxScaleShift(g, g.node('Div', [centered, g.node('Sqrt', [g.node('Add', [variance, g.constant([o.epsilon])])])]), params);
    },
  },
});
