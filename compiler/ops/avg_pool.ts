// Average pooling and its transpose. avg_pool averages each window's elements inside the input,
// channel by channel: with 'same' padding a border window divides by the count of its input
// cells, not by the window's size, as TensorFlow (and Keras) do. It is linear, so its vjp is its
// transpose, avg_pool_transpose, which spreads each cotangent evenly over its window's cells —
// and whose vjp is avg_pool again.
import { tensor64, type Tensor64 } from '../ir/tensor.ts';
import { BATCH, sameShape, shapeToString, type Shape } from '../ir/types.ts';
import { ShapeError, type OpDef } from './op.ts';
import { forEachWindow, pooledShape, window2d, windowArgs, type PoolAttrs } from './pool_window.ts';

export interface AvgPoolTransposeAttrs extends PoolAttrs {
  /** The pooled input's shape ([N, L, C] or [N, H, W, C]): the transpose's output. */
  readonly input: Shape;
}

/** Each window's cells with its weight 1/count, output cell by output cell. */
function forEachShare(input: Shape, n: number, attrs: PoolAttrs, visit: (outCell: number, cells: readonly number[], share: number, c: number) => void): void {
  const g = window2d('avg_pool', input, attrs);
  forEachWindow(g, n, (outCell, cells) => visit(outCell, cells, 1 / cells.length, g.c));
}

const bound = (shape: Shape, n: number): number[] => shape.map((d) => (d === BATCH ? n : d));

export const avg_pool: OpDef<PoolAttrs> = {
  name: 'avg_pool',
  arity: 1,
  shape: ([x], attrs) => ({ shape: pooledShape(x!.shape, window2d('avg_pool', x!.shape, attrs)), dtype: 'f32' }),
  eval([x], attrs, ctx) {
    const out = tensor64(bound(ctx.node.shape, ctx.n));
    forEachShare(x!.shape, ctx.n, attrs, (o, cells, share, c) => {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (const cell of cells) s += x!.data[cell * c + ch]!;
        out.data[o * c + ch] = s * share;
      }
    });
    return out;
  },
  vjp: (b, { g, inputs: [x], attrs }) => [b.op('avg_pool_transpose', [g], { ...attrs, input: b.node(x!).shape })],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, inputs, attrs, dim }) => {
      const g = window2d('avg_pool', inputs[0]!.shape, attrs);
      return `avg_pool2d(${out}, ${ins[0]}, ${dim(g.n)}, ${windowArgs(g)});`;
    },
  },
};

export const avg_pool_transpose: OpDef<AvgPoolTransposeAttrs> = {
  name: 'avg_pool_transpose',
  arity: 1,
  shape([g], attrs) {
    const pooled = pooledShape(attrs.input, window2d('avg_pool_transpose', attrs.input, attrs));
    if (!sameShape(g!.shape, pooled)) throw new ShapeError(`avg_pool_transpose: the cotangent must be ${shapeToString(pooled)}, got ${shapeToString(g!.shape)}`);
    return { shape: attrs.input, dtype: 'f32' };
  },
  eval([g], attrs, ctx) {
    const dx: Tensor64 = tensor64(bound(attrs.input, ctx.n));
    forEachShare(attrs.input, ctx.n, attrs, (o, cells, share, c) => {
      for (let ch = 0; ch < c; ch++) {
        const v = g!.data[o * c + ch]! * share;
        for (const cell of cells) dx.data[cell * c + ch]! += v;
      }
    });
    return dx;
  },
  vjp: (b, { g, attrs }) => [b.op('avg_pool', [g], { pool: attrs.pool, strides: attrs.strides, padding: attrs.padding })],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, attrs, dim }) => {
      const g = window2d('avg_pool_transpose', attrs.input, attrs);
      return `avg_pool2d_transpose(${out}, ${ins[0]}, ${dim(g.n)}, ${windowArgs(g)});`;
    },
  },
};
