// What the global pooling layers share (global_average_pooling1d/2d, global_max_pooling2d): one
// value per channel over every spatial position, [h, w, c] or [steps, c] → [c] (Keras's
// `keepdims` keeps the pooled axes as 1s). The average is a sum over the spatial axes times the
// constant 1/positions (the one per-channel reduction kernel); the maximum is max_pool with one
// window over the whole image, so its gradient goes to the argmax as max pooling's does.
//
// With a mask (global_average_pooling1d only, as in Keras) the average is over the unmasked steps:
// Σ_t m_t·x_t / Σ_t m_t. A row with every step masked divides 0 by 0, as Keras's does; the guard then
// reports the non-finite value.
import { z } from 'zod';
import { BATCH } from '../ir/types.ts';
import { kerasWindowFormat } from './conv_window.ts';
import { field } from './interop/keras.ts';
import { pyTuple } from './interop/windowed.ts';
import { defineLayer, LayerShapeError, type FeatureShape } from './layer.ts';

function spatialOf(type: string, input: FeatureShape, axes: 1 | 2): number[] {
  const wanted = axes === 2 ? '[height, width, channels]' : '[steps, channels]';
  if (input.length !== axes + 1) throw new LayerShapeError(`${type} takes ${wanted} (rank ${axes + 1}), got a rank-${input.length} input`);
  return input.slice(0, axes) as number[];
}

/** A global pooling layer: `kind` over `axes` spatial axes, Keras class `className`. */
export function globalPoolingLayer<const T extends string>(type: T, kind: 'average' | 'max', axes: 1 | 2, className: string) {
  return defineLayer({
    type,
    options: { keepdims: z.boolean().default(false) },
    ...(kind === 'average' && axes === 1 ? { mask: 'read' as const } : {}),
    outputShape: (o, [x]) => {
      const spatial = spatialOf(type, x!, axes);
      return o.keepdims ? [...spatial.map(() => 1), x!.at(-1)!] : [x!.at(-1)!];
    },
    lower: ({ b, options, inputs, inputShapes, mask }) => {
      const input = inputShapes[0]!;
      const spatial = spatialOf(type, input, axes);
      const channels = input.at(-1)!;
      if (mask !== null) {
        const steps = spatial[0]!;
        const kept = b.op('mul', [inputs[0]!, b.op('reshape', [mask], { shape: [BATCH, steps, 1] })]);
        const sum = b.op('sum', [kept], { axes: [1], keepDims: options.keepdims });
        const count = b.op('sum', [mask], { axes: [1], keepDims: true });
        return b.op('div', [sum, options.keepdims ? b.op('reshape', [count], { shape: [BATCH, 1, 1] }) : count]);
      }
      if (kind === 'average') {
        const positions = spatial.reduce((a, d) => a * d, 1);
        const sum = b.op('sum', [inputs[0]!], { axes: spatial.map((_, i) => i + 1), keepDims: options.keepdims });
        return b.op('mul', [sum, b.constant(1 / positions)]);
      }
      const pooled = b.op('max_pool', [inputs[0]!], { pool: spatial, strides: spatial, padding: 'valid' });
      return options.keepdims ? pooled : b.op('reshape', [pooled], { shape: [BATCH, channels] });
    },
    keras: {
      className,
      fromKeras: {
        [className]: (c) => {
          kerasWindowFormat(c);
          return { keepdims: field(c, 'keepdims', 'boolean', false) };
        },
      },
      toKeras: (o) => ({ data_format: 'channels_last', keepdims: o.keepdims }),
      weights: () => [],
    },
    // Reductions over the spatial axes of the channels-last tensor: no transpose.
    torch: {
      forward: (o, [x]) => {
        const spatial = Array.from({ length: axes }, (_, i) => i + 1);
        return `${x}.${kind === 'average' ? 'mean' : 'amax'}(${pyTuple(spatial)}, keepdim=${o.keepdims ? 'True' : 'False'})`;
      },
    },
    onnx: {
      lower: (g, o, [x]) => g.node(kind === 'average' ? 'ReduceMean' : 'ReduceMax', [x!], { axes: Array.from({ length: axes }, (_, i) => i + 1), keepdims: o.keepdims ? 1 : 0 }),
    },
  });
}
