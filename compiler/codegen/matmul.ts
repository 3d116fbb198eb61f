// The code of a matmul node: the packed GEMM generator (gemm.ts) where every stride is known at
// compile time, else a call to the simple kernels of assembly/kernels.ts. Also the scratch the
// packed forms need, which the memory plan reserves.
//
// A matrix dimension is a list of axes (ops/matmul.ts): the leading axes of a rank > 2 operand
// are one row count, n × their compiled sizes.
import { BATCH, type Dim, type Node } from '../ir/types.ts';
import { oriented, type Axes, type MatmulAttrs } from '../ops/matmul.ts';
import type { EmitArgs } from '../ops/op.ts';
import { emitGemm, gemmWork, packedBytes, packedColumnsBytes, packsColumns, type GemmDim, type GemmEpilogue, type GemmSpec } from './gemm.ts';

/** The compiled size of a product of axes, or undefined where the batch is one of them. */
function known(axes: Axes): number | undefined {
  let size = 1;
  for (const d of axes) {
    if (d === BATCH) return undefined;
    size *= d;
  }
  return size;
}

/** The largest size of a product of axes: the batch at its compiled size. */
function bound(axes: Axes, batchSize: number): number {
  return axes.reduce<number>((size, d) => size * (d === BATCH ? batchSize : d), 1);
}

/** A product of axes as an i32 expression: one axis as `dim` writes it, else n times the compiled rest. */
function axesExpr(axes: Axes, dim: (d: Dim) => string): string {
  if (axes.length === 1) return dim(axes[0]!);
  const size = known(axes.filter((d) => d !== BATCH))!;
  if (!axes.includes(BATCH)) return String(size);
  return size === 1 ? dim(BATCH) : `(${dim(BATCH)} * ${size})`;
}

/**
 * The product's code; an epilogue (bias, activation) is only possible where the GEMM generator runs
 * it. `split`: the code of one part of the product (GemmSpec.split), where the generator runs it.
 */
export function emitMatmul({ out, ins, inputs, node, attrs, dim, scratch, batchSize }: EmitArgs<MatmulAttrs>, epilogue?: GemmEpilogue, split = false): string {
  const plan = gemmPlan(inputs, node, attrs);
  if (plan) {
    return emitGemm({
      ...(split ? { split } : {}),
      ...plan(dim, batchSize),
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
  const n = node.shape.slice(-1);
  const kernel = `mm_${attrs.transA ? 't' : 'n'}${attrs.transB ? 't' : 'n'}`;
  return `${kernel}(${out}, ${ins[0]}, ${ins[1]}, ${axesExpr(m, dim)}, ${axesExpr(k, dim)}, ${axesExpr(n, dim)});`;
}

/** The multiply-adds of a product the GEMM generator runs (an i32 expression of n), else null: it cannot be split. */
export function matmulWork(inputs: readonly Node[], node: Node, attrs: MatmulAttrs, dim: (d: Dim) => string): string | null {
  const plan = gemmPlan(inputs, node, attrs);
  return plan ? gemmWork(plan(dim)) : null;
}

/** Multiply-adds of a product the GEMM generator runs, at the compiled batch size; null where it does not run it. */
export function matmulWorkAtBatch(inputs: readonly Node[], node: Node, attrs: MatmulAttrs, batchSize: number): number | null {
  const plan = gemmPlan(inputs, node, attrs);
  if (!plan) return null;
  const s = plan(() => String(batchSize), batchSize);
  return (s.M.value ?? s.M.bound!) * (s.K.value ?? s.K.bound!) * s.N;
}

/** Whether the GEMM generator runs this product, so that it can take an epilogue. */
export function takesEpilogue(inputs: readonly Node[], node: Node, attrs: MatmulAttrs): boolean {
  return gemmPlan(inputs, node, attrs) !== null;
}

type GemmShape = Pick<GemmSpec, 'M' | 'K' | 'N' | 'aRow' | 'aK'>;

/**
 * How the packed GEMM generator reaches this product's operands, or null where a stride would
 * depend on the batch (then the simple kernels of assembly/kernels.ts run it).
 */
function gemmPlan(inputs: readonly Node[], node: Node, attrs: MatmulAttrs): (((dim: (d: Dim) => string, batchSize?: number) => GemmShape) & { packed: 'a' | 'b' | null }) | null {
  const [m, k] = oriented(inputs[0]!.shape, attrs.transA);
  const n = known(node.shape.slice(-1));
  const gd = (axes: Axes, dim: (d: Dim) => string, batchSize?: number): GemmDim => {
    const value = known(axes);
    if (value !== undefined) return { expr: axesExpr(axes, dim), value };
    return batchSize === undefined ? { expr: axesExpr(axes, dim) } : { expr: axesExpr(axes, dim), bound: bound(axes, batchSize) };
  };
  const shape = (aRow: number, aK: number) => (dim: (d: Dim) => string, batchSize?: number): GemmShape => ({ M: gd(m, dim, batchSize), K: gd(k, dim, batchSize), N: n!, aRow, aK });
  if (n === undefined) return null;
  const kSize = known(k);
  // X·Wᵀ packs W into 8-column panels; dYᵀ·X packs dY into 4-column panels (then rows of a
  // panel are 4 bytes apart and k steps 16); dY·W reads both operands in place.
  if (!attrs.transA && attrs.transB && kSize !== undefined) return Object.assign(shape(kSize * 4, 4), { packed: 'b' as const });
  if (!attrs.transA && !attrs.transB && kSize !== undefined) return Object.assign(shape(kSize * 4, 4), { packed: null });
  if (attrs.transA && !attrs.transB && known(m) !== undefined) return Object.assign(shape(4, 16), { packed: 'a' as const });
  return null;
}

/** Bytes of the packed operand (W in 8-column panels, or dY in 4-column panels), 0 where nothing is packed. */
export function matmulScratchBytes(node: Node, inputs: readonly Node[], attrs: MatmulAttrs, batchSize: number): number {
  const plan = gemmPlan(inputs, node, attrs);
  const [m, k] = oriented(inputs[0]!.shape, attrs.transA);
  if (plan?.packed === 'b') return packedBytes(bound(node.shape.slice(-1), batchSize), bound(k, batchSize));
  if (plan?.packed === 'a' && packsColumns(bound(k, batchSize))) return packedColumnsBytes(bound(m, batchSize), bound(k, batchSize));
  return 0;
}
