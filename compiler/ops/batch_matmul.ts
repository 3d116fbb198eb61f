// Matrix products batched over leading axes: A[..., M, K] · B[..., K, N] → [..., M, N], one product
// per index of the leading axes (which both operands share, the batch included), either operand
// optionally transposed in its last two axes. Attention is this op: Q·Kᵀ over [N, heads] gives the
// scores [N, H, Tq, Tk], and the weights times V the values. Unlike matmul, whose leading axes are
// rows of one matrix, here they index separate matrices.
import { tensor64 } from '../ir/tensor.ts';
import { sameShape, shapeToString, type Dim, type Shape } from '../ir/types.ts';
import { ShapeError, unitAddress, type EmitArgs, type OpDef } from './op.ts';

export interface BatchMatmulAttrs {
  readonly transA?: boolean;
  readonly transB?: boolean;
}

/** [rows, cols] of the last two axes of an operand, as op() reads them. */
function matrix(shape: Shape, transposed: boolean | undefined): [Dim, Dim] {
  const [r, c] = shape.slice(-2) as [Dim, Dim];
  return transposed ? [c, r] : [r, c];
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

export const batch_matmul: OpDef<BatchMatmulAttrs> = {
  name: 'batch_matmul',
  arity: 2,
  shape([a, b], attrs) {
    const show = (): string => `${shapeToString(a!.shape)}${attrs.transA ? 'ᵀ' : ''} · ${shapeToString(b!.shape)}${attrs.transB ? 'ᵀ' : ''}`;
    if (a!.shape.length < 3 || b!.shape.length < 3) throw new ShapeError(`batch_matmul needs operands of rank ≥ 3 (leading axes, then a matrix), got ${show()}`);
    const lead = a!.shape.slice(0, -2);
    if (!sameShape(lead, b!.shape.slice(0, -2))) throw new ShapeError(`batch_matmul: the leading axes differ: ${show()}`);
    const [m, k1] = matrix(a!.shape, attrs.transA);
    const [k2, n] = matrix(b!.shape, attrs.transB);
    if (k1 !== k2) throw new ShapeError(`batch_matmul inner dimensions differ: ${show()}`);
    if (typeof m !== 'number' || typeof n !== 'number' || typeof k1 !== 'number') throw new ShapeError(`batch_matmul: the matrix axes must be fixed sizes (the batch leads), got ${show()}`);
    return { shape: [...lead, m, n], dtype: 'f32' };
  },
  eval([a, b], attrs, ctx) {
    const [ar, ac] = a!.shape.slice(-2) as [number, number];
    const [br, bc] = b!.shape.slice(-2) as [number, number];
    const count = product(a!.shape.slice(0, -2));
    const [m, k] = attrs.transA ? [ac, ar] : [ar, ac];
    const n = attrs.transB ? br : bc;
    const out = tensor64(ctx.node.shape.map((d) => (d === 'N' ? ctx.n : d)));
    // Element (i, p) of op(A) is A[i·ai + p·ap], (p, j) of op(B) is B[p·bp + j·bj] within a matrix.
    const [ai, ap] = attrs.transA ? [1, m] : [k, 1];
    const [bp, bj] = attrs.transB ? [1, k] : [n, 1];
    for (let t = 0; t < count; t++) {
      const A = a!.data.subarray(t * ar * ac, (t + 1) * ar * ac);
      const B = b!.data.subarray(t * br * bc, (t + 1) * br * bc);
      const C = out.data.subarray(t * m * n, (t + 1) * m * n);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0, x = i * ai, y = j * bj; p < k; p++, x += ap, y += bp) s += A[x]! * B[y]!;
          C[i * n + j] = s;
        }
      }
    }
    return out;
  },
  // Per matrix, the rule of matmul: dA and dB are products of g with the other operand.
  vjp(b, { g, inputs: [x, y], attrs }) {
    const tA = attrs.transA ?? false;
    const tB = attrs.transB ?? false;
    const dA = tA ? b.op('batch_matmul', [y!, g], { transA: tB, transB: true }) : b.op('batch_matmul', [g, y!], { transB: !tB });
    const dB = tB ? b.op('batch_matmul', [g, x!], { transA: true, transB: tA }) : b.op('batch_matmul', [x!, g], { transA: !tA });
    return [dA, dB];
  },
  // One small product per matrix; attention's matrices (a context by a head width) are too small
  // for the packed GEMM's panels to pay off, so the simple f32x4 kernels of assembly/ run them.
  template: {
    kind: 'kernel',
    emit: (args) => batchedCall(args, '0', args.node.shape.slice(0, -2).map(args.dim).join(' * ')),
    // The threaded build may give each part a range of the matrices.
    parts: {
      units: (args) => {
        const { m, k, n } = sizes(args);
        return { count: args.node.shape.slice(0, -2).map(args.dim).join(' * '), group: 1, cost: m * k * n };
      },
      emit: batchedCall,
    },
  },
};

function sizes({ inputs, node, attrs }: EmitArgs<BatchMatmulAttrs>): { m: number; k: number; n: number } {
  const [m, k] = matrix(inputs[0]!.shape, attrs.transA) as [number, number];
  return { m, k, n: node.shape.at(-1) as number };
}

/** The products of matrices first … first + count − 1. */
function batchedCall(args: EmitArgs<BatchMatmulAttrs>, first: string, count: string): string {
  const { out, ins, attrs } = args;
  const { m, k, n } = sizes(args);
  return `batched_mm(${unitAddress(out, first, m * n)}, ${unitAddress(ins[0]!, first, m * k)}, ${unitAddress(ins[1]!, first, k * n)}, ${count}, ${m}, ${k}, ${n}, ${attrs.transA ? 1 : 0}, ${attrs.transB ? 1 : 0});`;
}
