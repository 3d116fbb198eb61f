// What the windowed pooling layers share (max_pooling1d/2d, average_pooling1d/2d): Keras's options
// (poolSize default 2, strides default the pool size, padding 'valid'), the output shape by the
// pooling ops' own geometry, and the Keras form. Each layer's file names its op, axes and class.
import { z } from 'zod';
import { ShapeError } from '../ops/op.ts';
import { pooledShape, window2d, type PoolAttrs } from '../ops/pool_window.ts';
import { BATCH } from '../ir/types.ts';
import { kerasSizes, kerasWindowFormat, perAxis, samePads, sizes } from './conv_window.ts';
import { field } from './interop/keras.ts';
import { KerasFieldError, type KerasConfig, type KerasMapping } from './interop/types.ts';
import { onnxPads, onnxWindowed, pyPads, pyTuple, type SidePads } from './interop/windowed.ts';
import { defineLayer, LayerShapeError, type FeatureShape } from './layer.ts';

export const poolOptions = {
  poolSize: perAxis.default(2),
  /** null: the pool size, as Keras's default. */
  strides: perAxis.nullable().default(null),
  padding: z.enum(['valid', 'same'], { error: 'expected "valid" or "same"' }).default('valid'),
};

interface PoolOptions {
  readonly poolSize: number | readonly number[];
  readonly strides: number | readonly number[] | null;
  readonly padding: 'valid' | 'same';
}

/** The pooling op's attributes for `input` ([h, w, c] or [steps, c]), or a LayerShapeError naming the layer. */
export function poolAttrs(type: string, o: PoolOptions, input: FeatureShape, axes: 1 | 2): PoolAttrs {
  const wanted = axes === 2 ? '[height, width, channels]' : '[steps, channels]';
  if (input.length !== axes + 1) throw new LayerShapeError(`${type} takes ${wanted} (rank ${axes + 1}), got a rank-${input.length} input`);
  const pool = sizes(type, 'poolSize', o.poolSize, axes);
  const attrs = { pool, strides: o.strides === null ? pool : sizes(type, 'strides', o.strides, axes), padding: o.padding };
  try {
    window2d(type, [BATCH, ...input], attrs);
  } catch (e) {
    if (e instanceof ShapeError) throw new LayerShapeError(`${e.message}; use padding 'same' or a smaller poolSize`);
    throw e;
  }
  return attrs;
}

/** The (before, after) padding per spatial axis: TensorFlow's 'same' rule, or none. */
function poolPads(attrs: PoolAttrs, input: FeatureShape): SidePads {
  return attrs.pool.map((k, a) => (attrs.padding === 'same' ? samePads(input[a]!, k, attrs.strides[a]!, 1) : ([0, 0] as const)));
}

/** The pooled per-sample shape. */
export function pooledFeatures(type: string, o: PoolOptions, input: FeatureShape, axes: 1 | 2): FeatureShape {
  const attrs = poolAttrs(type, o, input, axes);
  return pooledShape([BATCH, ...input], window2d(type, [BATCH, ...input], attrs)).slice(1) as number[];
}

/** A Keras pooling class's config as options; Keras 1-D layers write sizes as one-element lists. */
function poolFromKeras(c: KerasConfig): Record<string, unknown> {
  kerasWindowFormat(c);
  const padding = field<string>(c, 'padding', 'string', 'valid');
  if (padding !== 'valid' && padding !== 'same') throw new KerasFieldError('padding', `padding '${padding}' is not supported: 'valid' or 'same'`);
  return { poolSize: kerasSizes(c, 'pool_size', 2), strides: c['strides'] == null ? null : kerasSizes(c, 'strides'), padding };
}

function poolKeras<O extends PoolOptions>(className: string, axes: 1 | 2): KerasMapping<O> {
  const list = (v: number | readonly number[]): number[] => (typeof v === 'number' ? Array.from({ length: axes }, () => v) : [...v]);
  return {
    className,
    fromKeras: { [className]: poolFromKeras },
    toKeras: (o) => ({ pool_size: list(o.poolSize), strides: list(o.strides ?? o.poolSize), padding: o.padding, data_format: 'channels_last' }),
    weights: () => [],
  };
}

/** A windowed pooling layer: `op` over `axes` spatial axes, Keras class `className`. */
export function poolingLayer<const T extends string>(type: T, op: 'max_pool' | 'avg_pool', axes: 1 | 2, className: string) {
  return defineLayer({
    type,
    options: poolOptions,
    outputShape: (o, [x]) => pooledFeatures(type, o, x!, axes),
    lower: ({ b, options, inputs, inputShapes }) => b.op(op, [inputs[0]!], poolAttrs(type, options, inputShapes[0]!, axes)),
    describe: (o) => {
      const pool = typeof o.poolSize === 'number' ? Array.from({ length: axes }, () => o.poolSize as number) : o.poolSize;
      return `${type} (${pool.join('×')}${o.padding === 'same' ? ', same' : ''})`;
    },
    keras: poolKeras(className, axes),
    // The generated preamble's max_pool pads with −∞, its average_pool divides by the cells inside the image.
    torch: {
      forward: (o, [x], _self, [shape]) => {
        const attrs = poolAttrs(type, o, shape!, axes);
        return `${op === 'max_pool' ? 'max_pool' : 'average_pool'}(${x}, ${pyTuple(attrs.pool)}, ${pyTuple(attrs.strides)}, ${pyPads(poolPads(attrs, shape!))})`;
      },
    },
    // MaxPool's padding never wins; AveragePool with count_include_pad = 0 divides by the cells inside the image, as TensorFlow.
    onnx: {
      lower: (g, o, [x], _params, [shape]) => {
        const attrs = poolAttrs(type, o, shape!, axes);
        const common = { kernel_shape: attrs.pool, strides: attrs.strides, pads: onnxPads(poolPads(attrs, shape!)) };
        return onnxWindowed(g, x!, axes, (t) => (op === 'max_pool' ? g.node('MaxPool', [t], common) : g.node('AveragePool', [t], { ...common, count_include_pad: 0 })));
      },
    },
  });
}
