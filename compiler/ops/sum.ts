// Sum over axes. With inv_count it makes every mean, and the backward walker uses it to
// un-broadcast gradients.
import { tensor64 } from '../ir/tensor.ts';
import { shapeToString, type Dim } from '../ir/types.ts';
import { ShapeError, type OpDef } from './op.ts';

export interface SumAttrs {
  readonly axes: readonly number[];
  readonly keepDims?: boolean;
}

export const sum: OpDef<SumAttrs> = {
  name: 'sum',
  arity: 1,
  shape([x], { axes, keepDims }) {
    const rank = x!.shape.length;
    for (const a of axes) {
      if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ShapeError(`sum: axis ${a} out of range for ${shapeToString(x!.shape)}`);
    }
    const shape: Dim[] = [];
    x!.shape.forEach((d, i) => {
      if (!axes.includes(i)) shape.push(d);
      else if (keepDims) shape.push(1);
    });
    return { shape, dtype: 'f32' };
  },
  eval([x], { axes }, ctx) {
    const outShape = ctx.node.shape.map((d) => (d === 'N' ? ctx.n : d));
    const out = tensor64(outShape);
    const shape = x!.shape;
    // Row-major walk; the output index drops (or pins to 0) the summed axes.
    const outStrides: number[] = new Array<number>(shape.length).fill(0);
    let stride = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (!axes.includes(i)) {
        outStrides[i] = stride;
        stride *= shape[i]!;
      }
    }
    const index = new Array<number>(shape.length).fill(0);
    for (let flat = 0; flat < x!.data.length; flat++) {
      let o = 0;
      for (let i = 0; i < shape.length; i++) o += index[i]! * outStrides[i]!;
      out.data[o]! += x!.data[flat]!;
      for (let i = shape.length - 1; i >= 0; i--) {
        if (++index[i]! < shape[i]!) break;
        index[i] = 0;
      }
    }
    return out;
  },
  // Every summed element receives the cotangent of its sum.
  vjp(b, { g, inputs: [x], attrs }) {
    const inShape = b.node(x!).shape;
    const kept = attrs.keepDims ? g : b.op('reshape', [g], { shape: inShape.map((d, i) => (attrs.axes.includes(i) ? 1 : d)) });
    return [b.op('broadcast', [kept], { shape: inShape })];
  },
  template: {
    kind: 'kernel',
    emit({ out, ins, inputs, attrs, dim }) {
      const shape = inputs[0]!.shape;
      const count = shape.map(dim).join(' * ') || '1';
      const all = shape.every((_, i) => attrs.axes.includes(i));
      if (all) return `sum_all(${out}, ${ins[0]}, ${count});`;
      if (shape.length === 2 && attrs.axes.length === 1) {
        const kernel = attrs.axes[0] === 0 ? 'sum_rows' : 'sum_cols';
        return `${kernel}(${out}, ${ins[0]}, ${dim(shape[0]!)}, ${dim(shape[1]!)});`;
      }
      throw new Error(`internal: no sum kernel for axes [${attrs.axes.join(',')}] of ${shapeToString(shape)}`);
    },
  },
};
