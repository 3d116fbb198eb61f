// Keras's ZeroPadding2D: zero rows above and below, zero columns left and right of each image
// [h, w, c] → [h + top + bottom, w + left + right, c]. `padding` as Keras takes it: one number for
// all four sides, [rows, columns] (each on both sides), or [[top, bottom], [left, right]]. Lowered
// to im2col with a 1×1 window, whose padding reads as zeros (and whose vjp, col2im, crops back).
import { z } from 'zod';
import { kerasWindowFormat } from './conv_window.ts';
import { KerasFieldError } from './interop/types.ts';
import { defineLayer, LayerShapeError, type FeatureShape } from './layer.ts';

const count = z.int({ error: 'expected an integer' }).nonnegative({ error: 'expected a non-negative integer' });
const Padding = z.union([count, z.tuple([count, count]), z.tuple([z.tuple([count, count]), z.tuple([count, count])])], {
  error: 'expected a number, [rows, columns] or [[top, bottom], [left, right]]',
});
type PaddingSpec = z.output<typeof Padding>;

/** [[top, bottom], [left, right]] of any of Keras's forms. */
export function paddingPairs(p: PaddingSpec): [[number, number], [number, number]] {
  if (typeof p === 'number') return [[p, p], [p, p]];
  const [rows, cols] = p;
  return [typeof rows === 'number' ? [rows, rows] : rows, typeof cols === 'number' ? [cols, cols] : cols];
}

function image(input: FeatureShape): [number, number, number] {
  if (input.length !== 3) throw new LayerShapeError(`zero_padding2d takes [height, width, channels] (rank 3), got a rank-${input.length} input`);
  return input as [number, number, number];
}

export const zeroPadding2dLayer = defineLayer({
  type: 'zero_padding2d',
  options: { padding: Padding.default(1) },
  outputShape: (o, [x]) => {
    const [h, w, c] = image(x!);
    const [[t, bottom], [l, r]] = paddingPairs(o.padding);
    return [h + t + bottom, w + l + r, c];
  },
  lower: ({ b, options, inputs, inputShapes }) => {
    image(inputShapes[0]!);
    const pads = paddingPairs(options.padding);
    if (pads.flat().every((p) => p === 0)) return inputs[0]!;
    return b.op('im2col', [inputs[0]!], { kernel: [1, 1], strides: [1, 1], dilation: [1, 1], pads });
  },
  describe: (o) => `zero_padding2d (${paddingPairs(o.padding).map((p) => p.join('+')).join(', ')})`,
  keras: {
    className: 'ZeroPadding2D',
    fromKeras: {
      ZeroPadding2D: (c) => {
        kerasWindowFormat(c);
        const p = Padding.safeParse(c['padding'] ?? 1);
        if (!p.success) throw new KerasFieldError('padding', `expected padding to be a number, [rows, columns] or [[top, bottom], [left, right]], got ${JSON.stringify(c['padding'])}`);
        return { padding: paddingPairs(p.data) };
      },
    },
    toKeras: (o) => ({ padding: paddingPairs(o.padding), data_format: 'channels_last' }),
    weights: () => [],
  },
  // Padded where it lies, channels last: F.pad takes (before, after) from the last axis (channels) back.
  torch: {
    forward: (o, [x]) => {
      const [[t, bottom], [l, r]] = paddingPairs(o.padding);
      return `F.pad(${x}, (0, 0, ${l}, ${r}, ${t}, ${bottom}))`;
    },
  },
  // Pad's pads: every axis's before ([N, H, W, C]), then every axis's after.
  onnx: {
    lower: (g, o, [x]) => {
      const [[t, bottom], [l, r]] = paddingPairs(o.padding);
      return g.node('Pad', [x!, g.integers([0, t, l, 0, 0, bottom, r, 0])]);
    },
  },
});
