// Softmax over the last axis of any rank, optionally causal: with `causal`, the tensor's last two
// axes are [queries, keys] and query i sees keys j ≤ i only (the later ones get probability 0
// exactly, as a −∞ score would give). Attention's weights. Stable: the row maximum is subtracted.
// vjp: p ⊙ (g − Σ g⊙p), zero where p is (the masked keys get no gradient).
// A loss head's softmax is exp(log_softmax) instead, which the cross-entropy shares.
import { tensor64 } from '../ir/tensor.ts';
import { shapeToString } from '../ir/types.ts';
import { ShapeError, type OpDef } from './op.ts';

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
    emit: ({ out, ins, node, attrs, dim }) => {
      const rows = node.shape.slice(0, -1).map(dim).join(' * ') || '1';
      const queries = attrs.causal ? dim(node.shape.at(-2)!) : '0';
      return `softmax_rows(${out}, ${ins[0]}, ${rows}, ${dim(node.shape.at(-1)!)}, ${queries});`;
    },
  },
};
