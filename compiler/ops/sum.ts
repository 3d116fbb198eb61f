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
  // The summed axes, with any extent-1 axes between them, must be one run: x is then read as
  // [outer, summed, inner] (the per-channel sums of [N, H, W, C] are [1, N·H·W, C], a global
  // pooling's [N, H·W, C]), and each outer block is a column sum (or a row sum when inner is 1).
  template: {
    kind: 'kernel',
    emit({ out, ins, inputs, attrs, dim }) {
      const shape = inputs[0]!.shape;
      const product = (dims: readonly Dim[]): string => dims.map(dim).join(' * ') || '1';
      if (shape.every((_, i) => attrs.axes.includes(i))) return `sum_all(${out}, ${ins[0]}, ${product(shape)});`;
      const summed = (i: number): boolean => attrs.axes.includes(i);
      if (shape.length === 2 && attrs.axes.length === 1) {
        const kernel = attrs.axes[0] === 0 ? 'sum_rows' : 'sum_cols';
        return `${kernel}(${out}, ${ins[0]}, ${dim(shape[0]!)}, ${dim(shape[1]!)});`;
      }
      if (attrs.axes.length === 0) return `memory.copy(${out}, ${ins[0]}, <usize>(${product(shape)}) << 2);`;
      const first = Math.min(...attrs.axes);
      const last = Math.max(...attrs.axes);
      if (shape.slice(first, last + 1).some((d, k) => !summed(first + k) && d !== 1)) {
        throw new Error(`internal: no sum kernel for axes [${attrs.axes.join(',')}] of ${shapeToString(shape)} (not one run of axes)`);
      }
      const outer = product(shape.slice(0, first));
      const rows = product(shape.slice(first, last + 1));
      const inner = product(shape.slice(last + 1));
      if (inner === '1') return `sum_cols(${out}, ${ins[0]}, ${outer}, ${rows});`;
      if (outer === '1') return `sum_rows(${out}, ${ins[0]}, ${rows}, ${inner});`;
      return [
        `for (let o = 0; o < ${outer}; o++) {`,
        `    sum_rows(${out} + ((<usize>o * <usize>(${inner})) << 2), ${ins[0]} + ((<usize>o * <usize>(${rows}) * <usize>(${inner})) << 2), ${rows}, ${inner});`,
        `  }`,
      ].join('\n');
    },
  },
};
