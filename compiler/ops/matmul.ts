// Matrix product, either operand optionally transposed. The three products of a dense layer are
// all this op: X·Wᵀ forward, dY·W and dYᵀ·X backward, no transposes stored.
//
// An operand of rank > 2 is read as a matrix whose rows are all its leading axes (the batch
// included) and whose columns are its last axis, like numpy's matmul of a flattened view: a
// dense product on the last axis of an image or a sequence, and the GEMM a convolution lowers
// to. X[N,P,K]·W[O,K]ᵀ → [N,P,O] keeps X's leading axes; dY[N,P,O]ᵀ·X[N,P,K] → [O,K] contracts
// over them (both operands must then have the same leading axes).
import { tensor64 } from '../ir/tensor.ts';
import { sameShape, shapeToString, type Dim, type Shape } from '../ir/types.ts';
import { ShapeError, type OpDef } from './op.ts';

export interface MatmulAttrs {
  readonly transA?: boolean;
  readonly transB?: boolean;
}

/** A matrix dimension as the axes whose product it is (one axis for a rank-2 operand). */
export type Axes = readonly Dim[];

/** [rows, cols] of op(X) as axis lists: rows are all axes but the last, columns the last. */
export function oriented(shape: Shape, transposed: boolean | undefined): [Axes, Axes] {
  const rows = shape.slice(0, -1);
  const cols = shape.slice(-1);
  return transposed ? [cols, rows] : [rows, cols];
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

export const matmul: OpDef<MatmulAttrs> = {
  name: 'matmul',
  arity: 2,
  shape([a, b], attrs) {
    const show = (): string => `${shapeToString(a!.shape)}${attrs.transA ? 'ᵀ' : ''} · ${shapeToString(b!.shape)}${attrs.transB ? 'ᵀ' : ''}`;
    if (a!.shape.length < 2 || b!.shape.length < 2) throw new ShapeError(`matmul needs operands of rank ≥ 2, got ${show()}`);
    // Only a product contracting over leading axes (dYᵀ·X) has a right operand of rank > 2.
    const contractsLeading = attrs.transA && !attrs.transB;
    if (!contractsLeading && b!.shape.length !== 2) throw new ShapeError(`matmul: a right operand of rank > 2 needs transA (and not transB), got ${show()}`);
    if (attrs.transA && attrs.transB && a!.shape.length !== 2) throw new ShapeError(`matmul: with both operands transposed the left one must be rank 2, got ${show()}`);
    const [m, k1] = oriented(a!.shape, attrs.transA);
    const [k2, n] = oriented(b!.shape, attrs.transB);
    if (!sameShape(k1, k2)) throw new ShapeError(`matmul inner dimensions differ: ${show()}`);
    return { shape: [...m, ...n], dtype: 'f32' };
  },
  eval([a, b], attrs, ctx) {
    const lead = (t: readonly number[]): number => product(t.slice(0, -1));
    const last = (t: readonly number[]): number => t[t.length - 1]!;
    const [m, k] = attrs.transA ? [last(a!.shape), lead(a!.shape)] : [lead(a!.shape), last(a!.shape)];
    const n = attrs.transB ? b!.shape[0]! : last(b!.shape);
    const out = tensor64(ctx.node.shape.map((d) => (d === 'N' ? ctx.n : d)));
    // Element (i, p) of op(A) is A[i·ai + p·ap], (p, j) of op(B) is B[p·bp + j·bj]: strides, not
    // closures, in the inner loop (the interpreter's hot spot in numerical gradient checks). The
    // sum still runs over p in order, so the values are those of the plain triple loop.
    const [ai, ap] = attrs.transA ? [1, m] : [k, 1];
    const [bp, bj] = attrs.transB ? [1, k] : [n, 1];
    const A = a!.data;
    const B = b!.data;
    const C = out.data;
    for (let i = 0; i < m; i++) {
      const rowA = i * ai;
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0, x = rowA, y = j * bj; p < k; p++, x += ap, y += bp) s += A[x]! * B[y]!;
        C[i * n + j] = s;
      }
    }
    return out;
  },
  // C = op(A)·op(B): dA and dB are again products of g with the other operand. With leading
  // axes every one of them stays a shape the rule above accepts: for X·Wᵀ, dX = g·W keeps them
  // and dW = gᵀ·X contracts over them; for Aᵀ·B, dA = B·gᵀ and dB = A·g keep them.
  vjp(b, { g, inputs: [x, y], attrs }) {
    const tA = attrs.transA ?? false;
    const tB = attrs.transB ?? false;
    const dA = tA ? b.op('matmul', [y!, g], { transA: tB, transB: true }) : b.op('matmul', [g, y!], { transB: !tB });
    const dB = tB ? b.op('matmul', [g, x!], { transA: true, transB: tA }) : b.op('matmul', [x!, g], { transA: !tA });
    return [dA, dB];
  },
  // The packed GEMM generator of compiler/codegen/matmul.ts writes its code.
  template: { kind: 'generated' },
};
