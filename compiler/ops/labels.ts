// Integer labels: gather_label picks x[r, label[r]] per row (the log-likelihood of the true
// class); scatter_label is its adjoint, placing g[r] at column label[r] of a zero matrix.
import { tensor64 } from '../ir/tensor.ts';
import { shapeToString } from '../ir/types.ts';
import { ShapeError, type OpDef, type TypedShape } from './op.ts';

/** Labels are i32, one per row of `rows`. */
export function checkLabels(op: string, rows: TypedShape, labels: TypedShape): void {
  if (labels.dtype !== 'i32' || labels.shape.length !== 1 || labels.shape[0] !== rows.shape[0]) {
    throw new ShapeError(`${op}: labels must be i32 [${String(rows.shape[0])}], got ${labels.dtype} ${shapeToString(labels.shape)}`);
  }
}

/** Row r's class index, checked against [0, classes). */
export function label(data: Float64Array, r: number, classes: number): number {
  const k = data[r]!;
  if (!Number.isInteger(k) || k < 0 || k >= classes) throw new RangeError(`label ${k} in row ${r} is not a class index in [0, ${classes})`);
  return k;
}

export const gather_label: OpDef = {
  name: 'gather_label',
  arity: 2,
  shape([x, labels]) {
    if (x!.shape.length !== 2) throw new ShapeError(`gather_label needs [rows, classes], got ${shapeToString(x!.shape)}`);
    checkLabels('gather_label', x!, labels!);
    return { shape: [x!.shape[0]!], dtype: 'f32' };
  },
  eval([x, labels]) {
    const [rows, cols] = x!.shape as [number, number];
    const out = tensor64([rows]);
    for (let r = 0; r < rows; r++) out.data[r] = x!.data[r * cols + label(labels!.data, r, cols)]!;
    return out;
  },
  vjp: (b, { g, inputs: [x, labels] }) => [
    b.op('scatter_label', [g, labels!], { classes: b.node(x!).shape[1] as number }),
    null,
  ],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, inputs, dim }) =>
      `gather_label(${out}, ${ins[0]}, ${ins[1]}, ${dim(inputs[0]!.shape[0]!)}, ${dim(inputs[0]!.shape[1]!)});`,
  },
};

export const scatter_label: OpDef<{ readonly classes: number }> = {
  name: 'scatter_label',
  arity: 2,
  shape([g, labels], { classes }) {
    if (g!.shape.length !== 1) throw new ShapeError(`scatter_label needs [rows], got ${shapeToString(g!.shape)}`);
    checkLabels('scatter_label', g!, labels!);
    return { shape: [g!.shape[0]!, classes], dtype: 'f32' };
  },
  eval([g, labels], { classes }) {
    const rows = g!.shape[0]!;
    const out = tensor64([rows, classes]);
    for (let r = 0; r < rows; r++) out.data[r * classes + label(labels!.data, r, classes)] = g!.data[r]!;
    return out;
  },
  vjp: (b, { g, inputs: [, labels] }) => [b.op('gather_label', [g, labels!]), null],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, node, dim }) => `scatter_label(${out}, ${ins[0]}, ${ins[1]}, ${dim(node.shape[0]!)}, ${dim(node.shape[1]!)});`,
  },
};
