// Matrix product of two rank-2 tensors, either operand optionally transposed. The three products
// of a dense layer are all this op: X·Wᵀ forward, dY·W and dYᵀ·X backward, no transposes stored.
import { tensor64 } from '../ir/tensor.ts';
import { shapeToString, type Dim } from '../ir/types.ts';
import { ShapeError, type OpDef } from './op.ts';

export interface MatmulAttrs {
  readonly transA?: boolean;
  readonly transB?: boolean;
}

/** [rows, cols] of op(X) for a rank-2 shape. */
export function oriented(shape: readonly Dim[], transposed: boolean | undefined): [Dim, Dim] {
  const [r, c] = shape as [Dim, Dim];
  return transposed ? [c, r] : [r, c];
}

export const matmul: OpDef<MatmulAttrs> = {
  name: 'matmul',
  arity: 2,
  shape([a, b], attrs) {
    if (a!.shape.length !== 2 || b!.shape.length !== 2) {
      throw new ShapeError(`matmul needs rank-2 operands, got ${shapeToString(a!.shape)} and ${shapeToString(b!.shape)}`);
    }
    const [m, k1] = oriented(a!.shape, attrs.transA);
    const [k2, n] = oriented(b!.shape, attrs.transB);
    if (k1 !== k2) {
      throw new ShapeError(
        `matmul inner dimensions differ: ${shapeToString(a!.shape)}${attrs.transA ? 'ᵀ' : ''} · ${shapeToString(b!.shape)}${attrs.transB ? 'ᵀ' : ''}`,
      );
    }
    return { shape: [m, n], dtype: 'f32' };
  },
  eval([a, b], attrs) {
    const [m, k] = attrs.transA ? [a!.shape[1]!, a!.shape[0]!] : [a!.shape[0]!, a!.shape[1]!];
    const n = attrs.transB ? b!.shape[0]! : b!.shape[1]!;
    const out = tensor64([m, n]);
    const aAt = attrs.transA ? (i: number, p: number) => a!.data[p * m + i]! : (i: number, p: number) => a!.data[i * k + p]!;
    const bAt = attrs.transB ? (p: number, j: number) => b!.data[j * k + p]! : (p: number, j: number) => b!.data[p * n + j]!;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += aAt(i, p) * bAt(p, j);
        out.data[i * n + j] = s;
      }
    }
    return out;
  },
  // C = op(A)·op(B): dA and dB are again products of g with the other operand.
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
