// Max pooling and its two linear companions. max_pool takes the largest element of each window,
// channel by channel; its gradient goes to that element alone — the first maximum in scan order
// (rows, then columns) when several tie, as PyTorch and TensorFlow route it. Padded cells of a
// 'same' window never win (TensorFlow pads with −∞).
//
//   max_pool_scatter(x, g)  adds each window's cotangent into its argmax cell: max_pool's vjp.
//   max_pool_gather(x, h)   reads h at each window's argmax: the transpose of the scatter.
//
// Both are linear in their second operand and piecewise constant in x (the argmax moves only at
// ties), so x gets no gradient, and each is the other's vjp: the backward graph stays IR the
// interpreter runs, to any order.
import { tensor64, type Tensor64 } from '../ir/tensor.ts';
import { sameShape, shapeToString } from '../ir/types.ts';
import { ShapeError, type OpDef, type TypedShape } from './op.ts';
import { forEachWindow, pooledShape, window2d, windowArgs, type PoolAttrs, type Window2d } from './pool_window.ts';

/** The window's cell holding the first largest value of channel `ch` (scan order, strict >). */
function argmax(x: Float64Array, cells: readonly number[], c: number, ch: number): number {
  let best = cells[0]! * c + ch;
  for (let k = 1; k < cells.length; k++) {
    const at = cells[k]! * c + ch;
    if (x[at]! > x[best]!) best = at;
  }
  return best;
}

/** Walks every (output element, argmax input element) pair of x's pooling. */
function forEachArgmax(x: Tensor64, attrs: PoolAttrs, visit: (out: number, at: number) => void): Window2d {
  const g = window2d('max_pool', x.shape, attrs);
  forEachWindow(g, x.shape[0]!, (outCell, cells) => {
    for (let ch = 0; ch < g.c; ch++) visit(outCell * g.c + ch, argmax(x.data, cells, g.c, ch));
  });
  return g;
}

/** x and a second operand of x's shape (gather) or of the pooled shape (scatter), checked. */
function pairShape(op: string, [x, y]: readonly TypedShape[], attrs: PoolAttrs, second: 'input' | 'pooled'): { input: TypedShape; pooled: TypedShape } {
  const pooled = { shape: pooledShape(x!.shape, window2d(op, x!.shape, attrs)), dtype: 'f32' as const };
  const want = second === 'input' ? x!.shape : pooled.shape;
  if (!sameShape(y!.shape, want)) throw new ShapeError(`${op}: the second operand must be ${shapeToString(want)}, got ${shapeToString(y!.shape)}`);
  return { input: { shape: x!.shape, dtype: 'f32' }, pooled };
}

export const max_pool: OpDef<PoolAttrs> = {
  name: 'max_pool',
  arity: 1,
  shape: ([x], attrs) => ({ shape: pooledShape(x!.shape, window2d('max_pool', x!.shape, attrs)), dtype: 'f32' }),
  eval([x], attrs, ctx) {
    const out = tensor64(ctx.node.shape.map((d) => (d === 'N' ? ctx.n : d)));
    forEachArgmax(x!, attrs, (o, at) => (out.data[o] = x!.data[at]!));
    return out;
  },
  vjp: (b, { g, inputs: [x], attrs }) => [b.op('max_pool_scatter', [x!, g], attrs)],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, inputs, attrs, dim }) => {
      const g = window2d('max_pool', inputs[0]!.shape, attrs);
      return `max_pool2d(${out}, ${ins[0]}, ${dim(g.n)}, ${windowArgs(g)});`;
    },
  },
};

export const max_pool_scatter: OpDef<PoolAttrs> = {
  name: 'max_pool_scatter',
  arity: 2,
  shape: (inputs, attrs) => pairShape('max_pool_scatter', inputs, attrs, 'pooled').input,
  eval([x, g], attrs) {
    const dx = tensor64(x!.shape);
    forEachArgmax(x!, attrs, (o, at) => (dx.data[at]! += g!.data[o]!));
    return dx;
  },
  vjp: (b, { g, inputs: [x], attrs }) => [null, b.op('max_pool_gather', [x!, g], attrs)],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, inputs, attrs, dim }) => {
      const g = window2d('max_pool_scatter', inputs[0]!.shape, attrs);
      return `max_pool2d_scatter(${out}, ${ins[0]}, ${ins[1]}, ${dim(g.n)}, ${windowArgs(g)});`;
    },
  },
};

export const max_pool_gather: OpDef<PoolAttrs> = {
  name: 'max_pool_gather',
  arity: 2,
  shape: (inputs, attrs) => pairShape('max_pool_gather', inputs, attrs, 'input').pooled,
  eval([x, h], attrs, ctx) {
    const out = tensor64(ctx.node.shape.map((d) => (d === 'N' ? ctx.n : d)));
    forEachArgmax(x!, attrs, (o, at) => (out.data[o] = h!.data[at]!));
    return out;
  },
  vjp: (b, { g, inputs: [x], attrs }) => [null, b.op('max_pool_scatter', [x!, g], attrs)],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, inputs, attrs, dim }) => {
      const g = window2d('max_pool_gather', inputs[0]!.shape, attrs);
      return `max_pool2d_gather(${out}, ${ins[0]}, ${ins[1]}, ${dim(g.n)}, ${windowArgs(g)});`;
    },
  },
};
