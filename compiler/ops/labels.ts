// Integer labels: gather_label picks x[r, label[r]] per row (the log-likelihood of the true
// class); scatter_label is its adjoint, placing g[r] at column label[r] of a zero matrix. A row is
// every index of the leading axes: [N, classes] with labels [N], or [N, steps, classes] with labels
// [N, steps] (a class per position, as a language model predicts).
import { tensor64 } from '../ir/tensor.ts';
import { sameShape, shapeToString, type Dim, type Shape } from '../ir/types.ts';
import { ShapeError, type OpDef, type TypedShape } from './op.ts';

/** The leading axes of `classes`-wide rows: every axis but the last. */
export const rowAxes = (shape: Shape): Shape => shape.slice(0, -1);

/** The number of rows of a bound shape (its leading axes multiplied). */
export const rowCount = (shape: readonly number[]): number => shape.slice(0, -1).reduce((a, b) => a * b, 1);

/** The rows of a shape as an expression of generated code, `dim` binding the batch. */
export const rowsExpression = (shape: Shape, dim: (d: Dim) => string): string => rowAxes(shape).map(dim).join(' * ');

/** Labels are i32, one per row of `rows` (its leading axes). */
export function checkLabels(op: string, rows: TypedShape, labels: TypedShape): void {
  if (labels.dtype !== 'i32' || !sameShape(labels.shape, rowAxes(rows.shape))) {
    throw new ShapeError(`${op}: labels must be i32 ${shapeToString(rowAxes(rows.shape))}, got ${labels.dtype} ${shapeToString(labels.shape)}`);
  }
}

/** Rows of classes: rank 2 or more. */
function checkRows(op: string, x: TypedShape, what: string): void {
  if (x.shape.length < 2) throw new ShapeError(`${op} needs ${what} [rows…, classes], got ${shapeToString(x.shape)}`);
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
    checkRows('gather_label', x!, 'values');
    checkLabels('gather_label', x!, labels!);
    return { shape: rowAxes(x!.shape), dtype: 'f32' };
  },
  eval([x, labels]) {
    const rows = rowCount(x!.shape);
    const cols = x!.shape.at(-1)!;
    const out = tensor64(x!.shape.slice(0, -1));
    for (let r = 0; r < rows; r++) out.data[r] = x!.data[r * cols + label(labels!.data, r, cols)]!;
    return out;
  },
  vjp: (b, { g, inputs: [x, labels] }) => [
    b.op('scatter_label', [g, labels!], { classes: b.node(x!).shape.at(-1) as number }),
    null,
  ],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, inputs, dim }) =>
      `gather_label(${out}, ${ins[0]}, ${ins[1]}, ${rowsExpression(inputs[0]!.shape, dim)}, ${dim(inputs[0]!.shape.at(-1)!)});`,
  },
};

export const scatter_label: OpDef<{ readonly classes: number }> = {
  name: 'scatter_label',
  arity: 2,
  shape([g, labels], { classes }) {
    if (g!.dtype !== 'f32' || labels!.dtype !== 'i32' || !sameShape(g!.shape, labels!.shape)) {
      throw new ShapeError(`scatter_label needs f32 values and i32 labels of one shape, got ${g!.dtype} ${shapeToString(g!.shape)} and ${labels!.dtype} ${shapeToString(labels!.shape)}`);
    }
    return { shape: [...g!.shape, classes], dtype: 'f32' };
  },
  eval([g, labels], { classes }) {
    const rows = g!.data.length;
    const out = tensor64([...g!.shape, classes]);
    for (let r = 0; r < rows; r++) out.data[r * classes + label(labels!.data, r, classes)] = g!.data[r]!;
    return out;
  },
  vjp: (b, { g, inputs: [, labels] }) => [b.op('gather_label', [g, labels!]), null],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, node, dim }) => `scatter_label(${out}, ${ins[0]}, ${ins[1]}, ${rowsExpression(node.shape, dim)}, ${dim(node.shape.at(-1)!)});`,
  },
};
