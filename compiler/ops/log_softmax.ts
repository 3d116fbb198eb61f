// log softmax over the last axis, by log-sum-exp with the row maximum subtracted: the stable
// core of softmax cross-entropy. vjp: g − softmax · Σg, softmax recovered as exp(out); for the
// cross-entropy's cotangent, the one-pass softmax_xent_labels_grad.
import { tensor64 } from '../ir/tensor.ts';
import { shapeToString, type NodeId } from '../ir/types.ts';
import { rowCount, rowsExpression } from './labels.ts';
import { ShapeError, type OpDef } from './op.ts';

export const log_softmax: OpDef = {
  name: 'log_softmax',
  arity: 1,
  shape([x]) {
    if (x!.shape.length < 2) throw new ShapeError(`log_softmax needs [rows…, classes], got ${shapeToString(x!.shape)}`);
    return { shape: x!.shape, dtype: 'f32' };
  },
  eval([x]) {
    const rows = rowCount(x!.shape);
    const cols = x!.shape.at(-1)!;
    const out = tensor64(x!.shape);
    for (let r = 0; r < rows; r++) {
      const row = x!.data.subarray(r * cols, (r + 1) * cols);
      let max = -Infinity;
      for (const v of row) max = Math.max(max, v);
      let s = 0;
      for (const v of row) s += Math.exp(v - max);
      const lse = max + Math.log(s);
      for (let c = 0; c < cols; c++) out.data[r * cols + c] = row[c]! - lse;
    }
    return out;
  },
  vjp: (b, { g, out }) => {
    const cotangent = b.node(g);
    if (cotangent.op === 'scatter_label') {
      // Cross-entropy: g = scatter(h) is h at the label, so Σg = h and g − softmax·Σg =
      // −h·(softmax − onehot): one pass, reusing exp(out) (the prediction's, after CSE).
      const [h, labels] = cotangent.inputs as [NodeId, NodeId];
      return [b.op('softmax_xent_labels_grad', [b.op('exp', [out]), labels, b.op('neg', [h])])];
    }
    return [b.op('sub', [g, b.op('mul', [b.op('exp', [out]), b.op('sum', [g], { axes: [b.node(g).shape.length - 1], keepDims: true })])])];
  },
  template: {
    kind: 'kernel',
    emit: ({ out, ins, node, dim }) => `log_softmax_rows(${out}, ${ins[0]}, ${rowsExpression(node.shape, dim)}, ${dim(node.shape.at(-1)!)});`,
    // Softmax cross-entropy forward in one pass: the probabilities exp(log_softmax) (prediction,
    // and input of the one-pass gradient) and the log-probability at the label, each exponential
    // taken once; address 0 skips an output nobody reads.
    fusedReaders: {
      ops: ['exp', 'gather_label'],
      emit: ({ ins, node, dim }, readers) => {
        const exp = readers.get('exp');
        const pick = readers.get('gather_label');
        return `softmax_xent_rows(${exp?.out ?? 0}, ${pick?.out ?? 0}, ${ins[0]}, ${pick?.ins[1] ?? 0}, ${rowsExpression(node.shape, dim)}, ${dim(node.shape.at(-1)!)});`;
      },
    },
  },
};
