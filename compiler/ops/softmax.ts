// Softmax over the last axis of any rank, optionally causal: with `causal`, the tensor's last two
// axes are [queries, keys] and query i sees keys j ≤ i only (the later ones get probability 0
// exactly, as a −∞ score would give). Attention's weights. Stable: the row maximum is subtracted.
// vjp: softmax_grad(p, g) = p ⊙ (g − Σ g⊙p) over each row, zero where p is (the masked keys get
// no gradient): one pass over each row, where the composition took three kernels (the product,
// its row sum, the difference times p).
// A loss head's softmax is exp(log_softmax) instead, which the cross-entropy shares.
import type { GraphBuilder } from '../ir/builder.ts';
import { tensor64 } from '../ir/tensor.ts';
import { sameShape, shapeToString, type NodeId } from '../ir/types.ts';
import { rowsExpression } from './labels.ts';
import { ShapeError, unitAddress, type EmitArgs, type OpDef } from './op.ts';

export interface SoftmaxAttrs {
  readonly causal?: boolean;
}

/** How many leading columns of row r are visible: all of them, or the causal prefix. */
function visible(r: number, queries: number, cols: number, causal: boolean | undefined): number {
  return causal ? Math.min(cols, (r % queries) + 1) : cols;
}

export const softmax: OpDef<SoftmaxAttrs> = {
  name: 'softmax',
  arity: 1,
  shape([x], { causal }) {
    const cols = x!.shape.at(-1);
    if (typeof cols !== 'number') throw new ShapeError(`softmax needs a fixed-size last axis, got ${shapeToString(x!.shape)}`);
    if (causal && (x!.shape.length < 2 || typeof x!.shape.at(-2) !== 'number')) throw new ShapeError(`a causal softmax needs [..., queries, keys], got ${shapeToString(x!.shape)}`);
    return { shape: x!.shape, dtype: 'f32' };
  },
  eval([x], { causal }) {
    const cols = x!.shape.at(-1)!;
    const queries = x!.shape.at(-2) ?? 1;
    const rows = x!.data.length / cols;
    const out = tensor64(x!.shape);
    for (let r = 0; r < rows; r++) {
      const seen = visible(r, queries, cols, causal);
      const row = x!.data.subarray(r * cols, r * cols + seen);
      let max = -Infinity;
      for (const v of row) max = Math.max(max, v);
      let s = 0;
      for (const v of row) s += Math.exp(v - max);
      for (let c = 0; c < seen; c++) out.data[r * cols + c] = Math.exp(row[c]! - max) / s;
    }
    return out;
  },
  vjp: (b, { g, out }) => [b.op('softmax_grad', [out, g])],
  template: {
    kind: 'kernel',
    emit: (args) => rowsCall(args, '0', rowCount(args)),
    // The threaded build may give each part a range of rows; a causal softmax's rows in whole
    // blocks of queries, since a row's visible keys follow from its position in the block.
    parts: {
      units: (args) => ({ count: rowCount(args), group: args.attrs.causal ? (args.node.shape.at(-2) as number) : 1, cost: (args.node.shape.at(-1) as number) * EXP_COST }),
      emit: rowsCall,
    },
  },
};

/**
 * The time of one element of a softmax (an exp, a division) in multiply-adds of a packed product:
 * 1.4 ns against 0.04 ns (`npm run bench:profile -- W7 --relaxed`: 32,768 elements in 46 µs, the
 * products at 50 GFLOPS).
 */
const EXP_COST = 32;

const rowCount = ({ node, dim }: EmitArgs<SoftmaxAttrs>): string => rowsExpression(node.shape, dim) || '1';

/** The softmax of rows first … first + count − 1. */
function rowsCall({ out, ins, node, attrs, dim }: EmitArgs<SoftmaxAttrs>, first: string, count: string): string {
  const cols = node.shape.at(-1) as number;
  const queries = attrs.causal ? dim(node.shape.at(-2)!) : '0';
  return `softmax_rows(${unitAddress(out, first, cols)}, ${unitAddress(ins[0]!, first, cols)}, ${count}, ${cols}, ${queries});`;
}

/** Σ over the last axis of a ⊙ b, kept as an axis of size 1. */
function rowDot(b: GraphBuilder, x: NodeId, y: NodeId): NodeId {
  return b.op('sum', [b.op('mul', [x, y])], { axes: [b.node(x).shape.length - 1], keepDims: true });
}

/**
 * softmax's vjp, y ⊙ (g − Σ g⊙y) over each row (y the softmax, g the cotangent). Its own vjp, for
 * a cotangent u: through g it is softmax_grad(y, u) again; through y, u ⊙ (g − Σ g⊙y) − g·Σ u⊙y.
 */
export const softmax_grad: OpDef = {
  name: 'softmax_grad',
  arity: 2,
  shape([y, g]) {
    if (typeof y!.shape.at(-1) !== 'number') throw new ShapeError(`softmax_grad needs a fixed-size last axis, got ${shapeToString(y!.shape)}`);
    if (!sameShape(y!.shape, g!.shape)) throw new ShapeError(`softmax_grad: the cotangent must have the softmax's shape ${shapeToString(y!.shape)}, got ${shapeToString(g!.shape)}`);
    return { shape: y!.shape, dtype: 'f32' };
  },
  eval([y, g]) {
    const cols = y!.shape.at(-1)!;
    const out = tensor64(y!.shape);
    for (let start = 0; start < y!.data.length; start += cols) {
      let dot = 0;
      for (let c = start; c < start + cols; c++) dot += g!.data[c]! * y!.data[c]!;
      for (let c = start; c < start + cols; c++) out.data[c] = y!.data[c]! * (g!.data[c]! - dot);
    }
    return out;
  },
  vjp: (b, { g: u, inputs: [y, g] }) => [b.op('sub', [b.op('mul', [u, b.op('sub', [g!, rowDot(b, g!, y!)])]), b.op('mul', [g!, rowDot(b, u, y!)])]), b.op('softmax_grad', [y!, u])],
  template: {
    kind: 'kernel',
    emit: (args) => gradRowsCall(args, '0', rowCount(args)),
    // The threaded build may give each part a range of rows. `cost`: loads, a multiply-add and a
    // store an element, no transcendental, so a pass of W7's size stays whole.
    parts: {
      units: (args) => ({ count: rowCount(args), group: 1, cost: (args.node.shape.at(-1) as number) * 4 }),
      emit: gradRowsCall,
    },
  },
};

/** softmax_grad of rows first … first + count − 1. */
function gradRowsCall({ out, ins, node }: EmitArgs<Record<string, never>>, first: string, count: string): string {
  const cols = node.shape.at(-1) as number;
  return `softmax_grad_rows(${unitAddress(out, first, cols)}, ${unitAddress(ins[0]!, first, cols)}, ${unitAddress(ins[1]!, first, cols)}, ${count}, ${cols});`;
}
