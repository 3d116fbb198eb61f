// Keras's BatchNormalization over the batch, per feature: batch statistics in training (and
// through them the gradient), running statistics (`<layer>.running_mean`, `.running_var`, saved
// with the weights, not trained) in inference; Keras's momentum 0.99 and ε = 1e-3.
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';
import { f32Epsilon, f32Fraction } from '../model/numbers.ts';
import { channelsOf, defineLayer } from './layer.ts';
import { onnxScaleShift, scaleShift, scaleShiftKerasWeights, scaleShiftOptions, scaleShiftParams } from './scale_shift.ts';
import { KerasFieldError } from './interop/types.ts';
import { field, lastAxis, refuseExtras } from './interop/keras.ts';
import { py } from './interop/torch.ts';

export interface BatchNormTensors {
  readonly gamma: NodeId | null;
  readonly beta: NodeId | null;
  /** Running statistics ([C] parameters, not trained). */
  readonly mean: NodeId;
  readonly variance: NodeId;
}

/**
 * Batch normalization per channel (the last axis) over every other axis — the rows of [N, C], the
 * pixels of [N, H, W, C], the steps of [N, L, C] — as Keras with axis = −1: in training, (x − μ_B)/√(σ²_B + ε)·γ + β
 * with the statistics of the n rows given (biased variance), differentiated through μ_B and σ²_B,
 * and running ← momentum·running + (1 − momentum)·batch; in inference, the running statistics.
 */
export function batchNorm(
  b: GraphBuilder,
  x: NodeId,
  t: BatchNormTensors,
  options: { readonly epsilon: number; readonly momentum: number },
  training: boolean,
): { output: NodeId; updates: { stat: 'running_mean' | 'running_var'; value: NodeId }[] } {
  const shape = b.node(x).shape;
  const width = shape.at(-1) as number;
  const reduced = shape.slice(0, -1).map((_, i) => i);
  let mean = t.mean;
  let variance = t.variance;
  const updates: { stat: 'running_mean' | 'running_var'; value: NodeId }[] = [];
  if (training) {
    // 1/(n·H·W) = C · 1/(n·H·W·C): inv_count binds the batch at run time.
    const invRows = b.op('mul', [b.op('inv_count', [x]), b.constant(width)]);
    const columnMean = (v: NodeId): NodeId => b.op('mul', [b.op('sum', [v], { axes: reduced, keepDims: true }), invRows]);
    mean = columnMean(x);
    const centered0 = b.op('sub', [x, mean]);
    variance = columnMean(b.op('mul', [centered0, centered0]));
    const blend = (running: NodeId, batch: NodeId): NodeId =>
      b.op('add', [
        b.op('mul', [b.constant(options.momentum), running]),
        b.op('mul', [b.constant(1 - options.momentum), b.op('reshape', [batch], { shape: [width] })]),
      ]);
    updates.push({ stat: 'running_mean', value: blend(t.mean, mean) }, { stat: 'running_var', value: blend(t.variance, variance) });
  }
  const normalized = b.op('div', [b.op('sub', [x, mean]), b.op('sqrt', [b.op('add', [variance, b.constant(options.epsilon)])])]);
  return { output: scaleShift(b, normalized, t.gamma, t.beta), updates };
}

export const batchNormalizationLayer = defineLayer({
  type: 'batch_normalization',
  options: {
    momentum: f32Fraction.default(0.99),
    epsilon: f32Epsilon.default(1e-3),
    ...scaleShiftOptions,
  },
  // A second application would update the running statistics twice per step.
  shareable: false,
  trainingDiffers: true,
  outputShape: (_o, [x]) => {
    channelsOf('batch_normalization', x!);
    return x!;
  },
  params: (o, [x]) => {
    const channels = [x!.at(-1)!];
    return [
      ...scaleShiftParams(o, channels),
      { suffix: 'running_mean', shape: channels, init: { type: 'zeros' as const }, trainable: false },
      { suffix: 'running_var', shape: channels, init: { type: 'ones' as const }, trainable: false },
    ];
  },
  lower: ({ b, options, inputs, params, training, update }) => {
    const tensors = { gamma: params['weight'] ?? null, beta: params['bias'] ?? null, mean: params['running_mean']!, variance: params['running_var']! };
    const bn = batchNorm(b, inputs[0]!, tensors, options, training);
    for (const u of bn.updates) update(u.stat, u.value);
    return bn.output;
  },
  keras: {
    className: 'BatchNormalization',
    fromKeras: {
      BatchNormalization: (c) => {
        lastAxis(c);
        refuseExtras(c, ['beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint']);
        if (c['renorm'] === true) throw new KerasFieldError('renorm', 'batch renormalization is not supported');
        return { momentum: field(c, 'momentum', 'number', 0.99), epsilon: field(c, 'epsilon', 'number', 1e-3), center: field(c, 'center', 'boolean', true), scale: field(c, 'scale', 'boolean', true) };
      },
    },
    toKeras: (o) => ({
      axis: -1,
      momentum: o.momentum,
      epsilon: o.epsilon,
      center: o.center,
      scale: o.scale,
      beta_initializer: { class_name: 'Zeros', config: {} },
      gamma_initializer: { class_name: 'Ones', config: {} },
      moving_mean_initializer: { class_name: 'Zeros', config: {} },
      moving_variance_initializer: { class_name: 'Ones', config: {} },
      beta_regularizer: null,
      gamma_regularizer: null,
      beta_constraint: null,
      gamma_constraint: null,
    }),
    weights: (o) => [
      ...scaleShiftKerasWeights(o),
      { keras: 'moving_mean', suffix: 'running_mean' },
      { keras: 'moving_variance', suffix: 'running_var' },
    ],
  },
  // The generated file's BatchNorm (compiler/interop/torch/preamble.ts) computes as nabla does:
  // Keras's momentum and the biased batch variance in the running statistics, where
  // nn.BatchNorm1d would use 1 − momentum and the unbiased variance.
  torch: {
    module: (o, [x]) => `BatchNorm(${x!.at(-1)}, momentum=${py(o.momentum)}, eps=${py(o.epsilon)}, center=${o.center ? 'True' : 'False'}, scale=${o.scale ? 'True' : 'False'})`,
    forward: (_o, [x], self) => `${self}(${x})`,
  },
  onnx: {
    lower: (g, o, [x], params) => {
      const normalized = g.node('Div', [g.node('Sub', [x!, params['running_mean']!]), g.node('Sqrt', [g.node('Add', [params['running_var']!, g.constant([o.epsilon])])])]);
      return onnxScaleShift(g, normalized, params);
    },
  },
});
