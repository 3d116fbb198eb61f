// Embedding lookup and its adjoint. gather_rows picks, for each integer id, that row of a
// [rows, width] table: [V, D] and ids [...S] give [...S, D]. scatter_rows adds rows of a cotangent
// [...S, D] into a zero [V, D] table at their ids (an id that occurs twice gets both rows), which
// is the table's gradient. Each is the other's vjp; the ids get no gradient.
import { tensor64 } from '../ir/tensor.ts';
import { shapeToString, type Shape } from '../ir/types.ts';
import { ShapeError, type OpDef, type TypedShape } from './op.ts';

const idCount = (ids: Shape, dim: (d: Shape[number]) => string): string => ids.map(dim).join(' * ') || '1';

function checkIds(op: string, ids: TypedShape): void {
  if (ids.dtype !== 'i32') throw new ShapeError(`${op}: ids must be i32, got ${ids.dtype} ${shapeToString(ids.shape)}`);
}

/** Id i of `ids`, checked against [0, rows). */
function idAt(ids: Float64Array, i: number, rows: number): number {
  const k = ids[i]!;
  if (!Number.isInteger(k) || k < 0 || k >= rows) throw new RangeError(`id ${k} at position ${i} is not in [0, ${rows})`);
  return k;
}

export const gather_rows: OpDef = {
  name: 'gather_rows',
  arity: 2,
  shape([table, ids]) {
    if (table!.shape.length !== 2 || typeof table!.shape[1] !== 'number') throw new ShapeError(`gather_rows needs a [rows, width] table, got ${shapeToString(table!.shape)}`);
    checkIds('gather_rows', ids!);
    return { shape: [...ids!.shape, table!.shape[1]], dtype: 'f32' };
  },
  eval([table, ids]) {
    const [rows, width] = table!.shape as [number, number];
    const out = tensor64([...ids!.shape, width]);
    for (let i = 0; i < ids!.data.length; i++) out.data.set(table!.data.subarray(idAt(ids!.data, i, rows) * width, (idAt(ids!.data, i, rows) + 1) * width), i * width);
    return out;
  },
  vjp: (b, { g, inputs: [table, ids] }) => [b.op('scatter_rows', [g, ids!], { rows: b.node(table!).shape[0] as number }), null],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, inputs, dim }) => `gather_rows(${out}, ${ins[0]}, ${ins[1]}, ${idCount(inputs[1]!.shape, dim)}, ${dim(inputs[0]!.shape[0]!)}, ${dim(inputs[0]!.shape[1]!)});`,
  },
};

export const scatter_rows: OpDef<{ readonly rows: number }> = {
  name: 'scatter_rows',
  arity: 2,
  shape([g, ids], { rows }) {
    checkIds('scatter_rows', ids!);
    const lead = g!.shape.slice(0, -1);
    if (lead.length !== ids!.shape.length || lead.some((d, i) => d !== ids!.shape[i])) {
      throw new ShapeError(`scatter_rows: rows ${shapeToString(g!.shape)} do not match ids ${shapeToString(ids!.shape)}`);
    }
    return { shape: [rows, g!.shape.at(-1)!], dtype: 'f32' };
  },
  eval([g, ids], { rows }) {
    const width = g!.shape.at(-1)!;
    const out = tensor64([rows, width]);
    for (let i = 0; i < ids!.data.length; i++) {
      const k = idAt(ids!.data, i, rows);
      for (let c = 0; c < width; c++) out.data[k * width + c]! += g!.data[i * width + c]!;
    }
    return out;
  },
  vjp: (b, { g, inputs: [, ids] }) => [b.op('gather_rows', [g, ids!]), null],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, inputs, node, dim }) => `scatter_rows(${out}, ${ins[0]}, ${ins[1]}, ${idCount(inputs[1]!.shape, dim)}, ${dim(node.shape[0]!)}, ${dim(node.shape[1]!)});`,
  },
};
