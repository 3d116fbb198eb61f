// The gradient of softmax cross-entropy with integer labels in one pass: g · (p − onehot(label))
// per row, p = softmax(z). The loss stays −gather_label(log_softmax(z), label), which shares
// log_softmax (and exp of it) with a softmax head's prediction; log_softmax's vjp emits this op
// when its cotangent is a scatter_label (the cross-entropy's), instead of the general
// g − softmax·Σg that costs a scatter, a row sum and two elementwise passes.
import { tensor64 } from '../ir/tensor.ts';
import { sameShape, shapeToString } from '../ir/types.ts';
import { checkLabels, label, rowAxes, rowCount, rowsExpression } from './labels.ts';
import { ShapeError, type OpDef, type TypedShape } from './op.ts';

function checkOperands(op: string, p: TypedShape, labels: TypedShape): void {
  if (p.shape.length < 2) throw new ShapeError(`${op} needs probabilities [rows…, classes], got ${shapeToString(p.shape)}`);
  checkLabels(op, p, labels);
}

/** g · (p − onehot(label)) per row, p the probabilities exp(log_softmax(z)): no exp at all. */
export const softmax_xent_labels_grad: OpDef = {
  name: 'softmax_xent_labels_grad',
  arity: 3,
  shape([p, labels, g]) {
    checkOperands('softmax_xent_labels_grad', p!, labels!);
    if (!sameShape(g!.shape, rowAxes(p!.shape))) throw new ShapeError(`softmax_xent_labels_grad: g must be ${shapeToString(rowAxes(p!.shape))}, got ${shapeToString(g!.shape)}`);
    return { shape: p!.shape, dtype: 'f32' };
  },
  eval([p, labels, g]) {
    const rows = rowCount(p!.shape);
    const cols = p!.shape.at(-1)!;
    const out = tensor64(p!.shape);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) out.data[r * cols + c] = g!.data[r]! * p!.data[r * cols + c]!;
      out.data[r * cols + label(labels!.data, r, cols)]! -= g!.data[r]!;
    }
    return out;
  },
  // Linear in p and in g: dp = u · g (per row), dg = Σ u⊙p − u[label].
  vjp: (b, { g: u, inputs: [p, labels, g] }) => {
    const classAxis = b.node(p!).shape.length - 1;
    const dp = b.op('mul', [u, b.op('reshape', [g!], { shape: [...b.node(g!).shape, 1] })]);
    const dg = b.op('sub', [b.op('sum', [b.op('mul', [u, p!])], { axes: [classAxis] }), b.op('gather_label', [u, labels!])]);
    return [dp, null, dg];
  },
  template: {
    kind: 'kernel',
    emit: ({ out, ins, node, dim }) =>
      `softmax_xent_labels_grad(${out}, ${ins[0]}, ${ins[1]}, ${ins[2]}, ${rowsExpression(node.shape, dim)}, ${dim(node.shape.at(-1)!)});`,
  },
};
