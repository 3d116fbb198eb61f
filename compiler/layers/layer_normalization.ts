// Keras's LayerNormalization over the features of each row: (x − μ) / √(σ² + ε) · γ + β, with
// Keras's ε = 1e-3. γ and β are named `<layer>.weight` and `<layer>.bias` (PyTorch's names).
import { z } from 'zod';
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';
import { positiveNumber } from './fields.ts';
import { defineLayer, LayerShapeError } from './layer.ts';

/**
 * Layer normalization over the last axis of [N, C]: (x − μ) / √(σ² + ε), then ·γ + β where given.
 * σ² is the biased variance, as Keras and PyTorch use. Autodiff differentiates through μ and σ².
 */
export function layerNorm(b: GraphBuilder, x: NodeId, gamma: NodeId | null, beta: NodeId | null, epsilon: number): NodeId {
  const width = b.node(x).shape[1] as number;
  const rowMean = (t: NodeId): NodeId => b.op('mul', [b.op('sum', [t], { axes: [1], keepDims: true }), b.constant(1 / width)]);
  const centered = b.op('sub', [x, rowMean(x)]);
  const variance = rowMean(b.op('mul', [centered, centered]));
  let y = b.op('div', [centered, b.op('sqrt', [b.op('add', [variance, b.constant(epsilon)])])]);
  if (gamma !== null) y = b.op('mul', [y, gamma]);
  if (beta !== null) y = b.op('add', [y, beta]);
  return y;
}

export const layerNormalizationLayer = defineLayer({
  type: 'layer_normalization',
  options: {
    epsilon: positiveNumber.default(1e-3),
    center: z.boolean().default(true),
    scale: z.boolean().default(true),
  },
  outputShape: (_o, [x]) => {
    if (x!.length !== 1) throw new LayerShapeError(`layer_normalization normalizes rows of features (rank 1), got a rank-${x!.length} input`);
    return x!;
  },
  params: (o, [x]) => [
    ...(o.scale ? [{ suffix: 'weight', shape: x!, init: { type: 'ones' as const } }] : []),
    ...(o.center ? [{ suffix: 'bias', shape: x!, init: { type: 'zeros' as const } }] : []),
  ],
  lower: ({ b, options, inputs, params }) => layerNorm(b, inputs[0]!, params['weight'] ?? null, params['bias'] ?? null, options.epsilon),
});
