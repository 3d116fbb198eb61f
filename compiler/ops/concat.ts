// Joining and splitting along the last (feature) axis: `concat` is the concatenate layer, `slice`
// its vjp (each operand gets its columns of the cotangent back). Two operands per concat: a merge
// of k tensors is a chain of k − 1 concats, so the op keeps a fixed arity like every other.
import { zeroColumns } from '../ir/columns.ts';
import { tensor64 } from '../ir/tensor.ts';
import { shapeToString, type Dim, type Shape } from '../ir/types.ts';
import { ShapeError, type EmitArgs, type OpDef } from './op.ts';

/**
 * The multiply-adds' worth of time a copied element is priced at, where a concat may run in parts:
 * alone, a copy takes about 0.25 ns an element (6 multiply-adds of a packed product), but in a
 * training step on two threads, after kernels that ran in parts, 4–6 times that: its operands and
 * the memory it writes over were last held by the other core (`npm run bench:profile -- W7
 * --relaxed --threads 2`). At 16, the copies W7's attention then made (head transposes, cotangent
 * joins) ran in two parts and its step on two threads took ×0.964 of the time with them whole; at
 * 32 more of W6's joins split and W6 took ×1.013. docs/benchmarks.md, "W7", has the runs.
 */
const COPY_COST = 16;

const lastDim = (shape: Shape): number => {
  const d = shape.at(-1);
  if (typeof d !== 'number') throw new ShapeError(`the last axis of ${shapeToString(shape)} must be a fixed size`);
  return d;
};

/** The leading dimensions as one row count (an AssemblyScript expression). */
const rowsExpr = (shape: Shape, dim: (d: Dim) => string): string => shape.slice(0, -1).map(dim).join(' * ') || '1';

/** Rows × width in float64: the leading dimensions collapse to rows. */
const rowsOf = (data: Float64Array, width: number): number => data.length / width;

export const concat: OpDef<Record<string, never>> = {
  name: 'concat',
  arity: 2,
  shape([a, b]) {
    const lead = a!.shape.slice(0, -1);
    if (a!.shape.length < 1 || a!.shape.length !== b!.shape.length || lead.some((d, i) => d !== b!.shape[i])) {
      throw new ShapeError(`concat: ${shapeToString(a!.shape)} and ${shapeToString(b!.shape)} differ before the last axis`);
    }
    return { shape: [...lead, lastDim(a!.shape) + lastDim(b!.shape)], dtype: 'f32' };
  },
  eval([a, b]) {
    const wa = a!.shape.at(-1)!;
    const wb = b!.shape.at(-1)!;
    const rows = rowsOf(a!.data, wa);
    const out = tensor64([...a!.shape.slice(0, -1), wa + wb]);
    for (let r = 0; r < rows; r++) {
      out.data.set(a!.data.subarray(r * wa, (r + 1) * wa), r * (wa + wb));
      out.data.set(b!.data.subarray(r * wb, (r + 1) * wb), r * (wa + wb) + wa);
    }
    return out;
  },
  vjp(b, { g, inputs: [x, y] }) {
    const wa = lastDim(b.node(x!).shape);
    return [b.op('slice', [g], { start: 0, size: wa }), b.op('slice', [g], { start: wa, size: lastDim(b.node(y!).shape) })];
  },
  template: {
    kind: 'kernel',
    emit: (args) => concatRows(args, '0', rowsExpr(args.inputs[0]!.shape, args.dim)),
    // The threaded build may give each part a range of rows.
    parts: {
      units: (args) => ({ count: rowsExpr(args.inputs[0]!.shape, args.dim), group: 1, cost: COPY_COST * lastDim(args.node.shape) }),
      emit: concatRows,
    },
  },
};

/** Rows first … first + count − 1 of a concat. */
function concatRows({ out, ins, inputs }: EmitArgs<Record<string, never>>, first: string, count: string): string {
  const wa = lastDim(inputs[0]!.shape);
  const wb = lastDim(inputs[1]!.shape);
  return [
    `for (let r = ${first}; r < ${first === '0' ? count : `${first} + ${count}`}; r++) {`,
    `    memory.copy(${out} + <usize>(r * ${(wa + wb) * 4}), ${ins[0]} + <usize>(r * ${wa * 4}), ${wa * 4});`,
    `    memory.copy(${out} + <usize>(r * ${(wa + wb) * 4} + ${wa * 4}), ${ins[1]} + <usize>(r * ${wb * 4}), ${wb * 4});`,
    `  }`,
  ].join('\n');
}

export interface SliceAttrs {
  /** First column taken, along the last axis. */
  readonly start: number;
  /** Columns taken. */
  readonly size: number;
}

export const slice: OpDef<SliceAttrs> = {
  name: 'slice',
  arity: 1,
  shape([x], { start, size }) {
    const width = lastDim(x!.shape);
    if (!Number.isInteger(start) || !Number.isInteger(size) || start < 0 || size < 1 || start + size > width) {
      throw new ShapeError(`slice: columns [${start}, ${start + size}) out of range for ${shapeToString(x!.shape)}`);
    }
    return { shape: [...x!.shape.slice(0, -1), size], dtype: x!.dtype };
  },
  eval([x], { start, size }) {
    const width = x!.shape.at(-1)!;
    const rows = rowsOf(x!.data, width);
    const out = tensor64([...x!.shape.slice(0, -1), size]);
    for (let r = 0; r < rows; r++) out.data.set(x!.data.subarray(r * width + start, r * width + start + size), r * size);
    return out;
  },
  // The cotangent goes back to its columns, zeros elsewhere: concat of zero blocks around g.
  vjp(b, { g, inputs: [x], attrs }) {
    const shape = b.node(x!).shape;
    const width = lastDim(shape);
    let full = g;
    if (attrs.start > 0) full = b.op('concat', [zeroColumns(b, shape, attrs.start), full]);
    const after = width - attrs.start - attrs.size;
    if (after > 0) full = b.op('concat', [full, zeroColumns(b, shape, after)]);
    return [full];
  },
  template: {
    kind: 'kernel',
    emit({ out, ins, inputs, attrs, dim }) {
      const width = lastDim(inputs[0]!.shape);
      return [
        `for (let r = 0; r < ${rowsExpr(inputs[0]!.shape, dim)}; r++) {`,
        `    memory.copy(${out} + <usize>(r * ${attrs.size * 4}), ${ins[0]} + <usize>(r * ${width * 4} + ${attrs.start * 4}), ${attrs.size * 4});`,
        `  }`,
      ].join('\n');
    },
  },
};
