// Matrix product of two rank-2 tensors, either operand optionally transposed. The three products
// of a dense layer are all this op: X·Wᵀ forward, dY·W and dYᵀ·X backward, no transposes stored.
import { tensor64 } from '../ir/tensor.ts';
import { emitGemm, packedBytes, packedColumnsBytes, type GemmDim, type GemmEpilogue, type GemmSpec } from '../codegen/gemm.ts';
import { BATCH, shapeToString, type Dim, type Node } from '../ir/types.ts';
import { ShapeError, type EmitArgs, type OpDef } from './op.ts';

export interface MatmulAttrs {
  readonly transA?: boolean;
  readonly transB?: boolean;
}

/** [rows, cols] of op(X) for a rank-2 shape. */
function oriented(shape: readonly Dim[], transposed: boolean | undefined): [Dim, Dim] {
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
  template: {
    kind: 'kernel',
    emit: (args) => emitMatmul(args),
    scratchBytes(node, inputs, attrs, batchSize) {
      const plan = gemmPlan(inputs, node, attrs);
      const [m, k] = oriented(inputs[0]!.shape, attrs.transA);
      const bound = (d: Dim): number => (d === BATCH ? batchSize : d);
      if (plan?.packed === 'b') return packedBytes(node.shape[1] as number, bound(k));
      if (plan?.packed === 'a') return packedColumnsBytes(bound(m), bound(k));
      return 0;
    },
  },
};

/** The product's code; an epilogue (bias, activation) is only possible where the GEMM generator runs it. */
export function emitMatmul({ out, ins, inputs, node, attrs, dim, scratch }: EmitArgs<MatmulAttrs>, epilogue?: GemmEpilogue): string {
  const plan = gemmPlan(inputs, node, attrs);
  if (plan) {
    return emitGemm({
      ...plan(dim),
      c: out,
      a: ins[0]!,
      b: ins[1]!,
      bLayout: plan.packed === 'b' ? { kind: 'packed', scratch: scratch! } : { kind: 'rows' },
      ...(plan.packed === 'a' ? { aPacked: { scratch: scratch! } } : {}),
      ...(epilogue ? { epilogue } : {}),
    });
  }
  if (epilogue) throw new Error(`internal: no GEMM epilogue for matmul %${node.id}`);
  const [m, k] = oriented(inputs[0]!.shape, attrs.transA);
  const n = node.shape[1]!;
  const kernel = `mm_${attrs.transA ? 't' : 'n'}${attrs.transB ? 't' : 'n'}`;
  return `${kernel}(${out}, ${ins[0]}, ${ins[1]}, ${dim(m)}, ${dim(k)}, ${dim(n)});`;
}

type GemmShape = Pick<GemmSpec, 'M' | 'K' | 'N' | 'aRow' | 'aK'>;

/**
 * How the packed GEMM generator reaches this product's operands, or null where a stride would
 * depend on the batch (then the simple kernels of assembly/kernels.ts run it).
 */
function gemmPlan(inputs: readonly Node[], node: Node, attrs: MatmulAttrs): (((dim: (d: Dim) => string) => GemmShape) & { packed: 'a' | 'b' | null }) | null {
  const [m, k] = oriented(inputs[0]!.shape, attrs.transA);
  const n = node.shape[1]!;
  const known = (d: Dim): d is number => typeof d === 'number';
  const gd = (d: Dim, dim: (d: Dim) => string): GemmDim => (known(d) ? { expr: dim(d), value: d } : { expr: dim(d) });
  const shape = (aRow: number, aK: number) => (dim: (d: Dim) => string): GemmShape => ({ M: gd(m, dim), K: gd(k, dim), N: n as number, aRow, aK });
  if (!known(n)) return null;
  // X·Wᵀ packs W into 8-column panels; dYᵀ·X packs dY into 4-column panels (then rows of a
  // panel are 4 bytes apart and k steps 16); dY·W reads both operands in place.
  if (!attrs.transA && attrs.transB && known(k)) return Object.assign(shape(k * 4, 4), { packed: 'b' as const });
  if (!attrs.transA && !attrs.transB && known(k)) return Object.assign(shape(k * 4, 4), { packed: null });
  if (attrs.transA && !attrs.transB && known(m)) return Object.assign(shape(4, 16), { packed: 'a' as const });
  return null;
}
