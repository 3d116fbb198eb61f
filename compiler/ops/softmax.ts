// Softmax over the last axis of any rank, optionally causal: with `causal`, the tensor's last two
// axes are [queries, keys] and query i sees keys j ≤ i only (the later ones get probability 0
// exactly, as a −∞ score would give). Attention's weights. Stable: the row maximum is subtracted.
// vjp: p ⊙ (g − Σ g⊙p), zero where p is (the masked keys get no gradient).
// A loss head's softmax is exp(log_softmax) instead, which the cross-entropy shares.
import { tensor64 } from '../ir/tensor.ts';
import { shapeToString } from '../ir/types.ts';
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
  vjp: (b, { g, out }) => {
    const last = b.node(out).shape.length - 1;
    const dot = b.op('sum', [b.op('mul', [g, out])], { axes: [last], keepDims: true });
    return [b.op('mul', [out, b.op('sub', [g, dot])])];
  },
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
