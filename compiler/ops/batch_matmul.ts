// Matrix products batched over leading axes: A[..., M, K] · B[..., K, N] → [..., M, N], one product
// per index of the leading axes (which both operands share, the batch included), either operand
// optionally transposed in its last two axes, the result optionally scaled. Attention is this op:
// Q·Kᵀ/√d over [N, heads] gives the scores [N, H, Tq, Tk], and the weights times V the values.
// Unlike matmul, whose leading axes are rows of one matrix, here they index separate matrices.
//
// Heads in place: an operand may be a block of columns of a [N, T, R] tensor read as heads
// (`headsA`, `headsB`: columns [start, start + size) split into H heads of size/H, seen as
// [N, H, T, size/H]), and the result may be written with its heads merged ([N, M, H·n] instead
// of [N, H, M, n]). Attention's query, key and value are then columns of its one projection and
// its output the input of the next, with no slice, reshape or transpose copying them in between.
import { zeroColumns } from '../ir/columns.ts';
import { tensor64 } from '../ir/tensor.ts';
import { BATCH, sameShape, shapeToString, type Dim, type Shape } from '../ir/types.ts';
import { ShapeError, type EmitArgs, type OpDef } from './op.ts';

/** Columns [start, start + size) of an operand [N, T, R], read as `heads` heads [N, heads, T, size / heads]. */
export interface HeadsView {
  readonly heads: number;
  readonly start: number;
  readonly size: number;
}

export interface BatchMatmulAttrs {
  readonly transA?: boolean;
  readonly transB?: boolean;
  /** A factor on every product (attention's 1/√keyDim), applied as the result is stored. */
  readonly scale?: number;
  readonly headsA?: HeadsView;
  readonly headsB?: HeadsView;
  /** The result [N, H, M, n] stored as [N, M, H·n]: its heads merged back. */
  readonly mergeHeads?: boolean;
}

/** The shape an operand is read as: its own, or [N, heads, T, size / heads] through a view. */
function viewed(shape: Shape, view: HeadsView | undefined, role: string): Shape {
  if (view === undefined) return shape;
  const { heads, start, size } = view;
  const [n, t, r] = shape;
  if (shape.length !== 3 || typeof t !== 'number' || typeof r !== 'number') throw new ShapeError(`batch_matmul: ${role} read as heads must be [N, steps, features], got ${shapeToString(shape)}`);
  if (!(Number.isInteger(heads) && heads >= 1 && Number.isInteger(start) && start >= 0 && Number.isInteger(size) && size >= heads && size % heads === 0 && start + size <= r)) {
    throw new ShapeError(`batch_matmul: ${role}'s columns [${start}, ${start + size}) of ${shapeToString(shape)} do not split into ${heads} heads`);
  }
  return [n!, heads, t, size / heads];
}

/** [rows, cols] of the last two axes of an operand, as op() reads them. */
function matrix(shape: Shape, transposed: boolean | undefined): [Dim, Dim] {
  const [r, c] = shape.slice(-2) as [Dim, Dim];
  return transposed ? [c, r] : [r, c];
}

/** The heads axis when any operand or the result is in place: the leading axes are then [N, H]. */
function headsOf(attrs: BatchMatmulAttrs, lead: Shape): number {
  if (attrs.headsA === undefined && attrs.headsB === undefined && !attrs.mergeHeads) return 1;
  if (lead.length !== 2 || typeof lead[1] !== 'number') throw new ShapeError(`batch_matmul: heads read or written in place need leading axes [N, heads], got ${shapeToString(lead)}`);
  return lead[1];
}

/**
 * Where matrix t of a buffer starts, with H matrices per index of the first axis: (t / H)·outer +
 * (t mod H)·inner + offset elements; rows `row` apart, elements along a row adjacent. The same
 * addressing serves the interpreter and the kernel, so a view means one thing in both.
 */
interface Layout {
  readonly offset: number;
  readonly outer: number;
  readonly inner: number;
  readonly row: number;
}

/** The layout of an operand stored [..., rows, cols] (H matrices per outer index), or read through a view. */
function layoutOf(shape: Shape, view: HeadsView | undefined, H: number): Layout {
  if (view !== undefined) {
    const [, t, r] = shape as [Dim, number, number];
    return { offset: view.start, outer: t * r, inner: view.size / view.heads, row: r };
  }
  const [rows, cols] = shape.slice(-2) as [number, number];
  return { offset: 0, outer: H * rows * cols, inner: rows * cols, row: cols };
}

/** The result's layout: [..., M, n] in order, or its heads merged ([N, M, H·n], rows `row` apart: more where it is a block of columns of a wider tensor). */
function resultLayout(m: number, n: number, H: number, merged: boolean | undefined, row = H * n): Layout {
  return merged ? { offset: 0, outer: m * row, inner: n, row } : { offset: 0, outer: H * m * n, inner: m * n, row: n };
}

/** Everything a product needs: sizes, the heads axis and each buffer's layout. */
interface Plan {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly heads: number;
  /** Shape of the leading axes the matrices are indexed by (the batch first). */
  readonly lead: Shape;
  readonly a: Layout;
  readonly b: Layout;
  readonly c: Layout;
}

function planOf(aShape: Shape, bShape: Shape, attrs: BatchMatmulAttrs): Plan {
  const a = viewed(aShape, attrs.headsA, 'A');
  const b = viewed(bShape, attrs.headsB, 'B');
  const show = (): string => `${shapeToString(a)}${attrs.transA ? 'ᵀ' : ''} · ${shapeToString(b)}${attrs.transB ? 'ᵀ' : ''}`;
  if (a.length < 3 || b.length < 3) throw new ShapeError(`batch_matmul needs operands of rank ≥ 3 (leading axes, then a matrix), got ${show()}`);
  const lead = a.slice(0, -2);
  if (!sameShape(lead, b.slice(0, -2))) throw new ShapeError(`batch_matmul: the leading axes differ: ${show()}`);
  const [m, k1] = matrix(a, attrs.transA);
  const [k2, n] = matrix(b, attrs.transB);
  if (k1 !== k2) throw new ShapeError(`batch_matmul inner dimensions differ: ${show()}`);
  if (typeof m !== 'number' || typeof n !== 'number' || typeof k1 !== 'number') throw new ShapeError(`batch_matmul: the matrix axes must be fixed sizes (the batch leads), got ${show()}`);
  if (attrs.scale !== undefined && !Number.isFinite(attrs.scale)) throw new ShapeError(`batch_matmul: scale must be a finite number, got ${attrs.scale}`);
  const heads = headsOf(attrs, lead);
  return { m, k: k1, n, heads, lead, a: layoutOf(aShape, attrs.headsA, heads), b: layoutOf(bShape, attrs.headsB, heads), c: resultLayout(m, n, heads, attrs.mergeHeads) };
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

export const batch_matmul: OpDef<BatchMatmulAttrs> = {
  name: 'batch_matmul',
  arity: 2,
  shape([a, b], attrs) {
    const { m, n, heads, lead } = planOf(a!.shape, b!.shape, attrs);
    return { shape: attrs.mergeHeads ? [lead[0]!, m, heads * n] : [...lead, m, n], dtype: 'f32' };
  },
  eval([a, b], attrs, ctx) {
    const { m, k, n, heads, lead, a: la, b: lb, c: lc } = planOf(a!.shape, b!.shape, attrs);
    const count = product(lead.map((d) => (d === BATCH ? ctx.n : d)));
    const out = tensor64(ctx.node.shape.map((d) => (d === BATCH ? ctx.n : d)));
    const scale = attrs.scale ?? 1;
    // Element (i, p) of op(A) is A[i·ai + p·ap], (p, j) of op(B) is B[p·bp + j·bj] within a matrix.
    const [ai, ap] = attrs.transA ? [1, la.row] : [la.row, 1];
    const [bp, bj] = attrs.transB ? [1, lb.row] : [lb.row, 1];
    const start = (l: Layout, t: number): number => l.offset + Math.floor(t / heads) * l.outer + (t % heads) * l.inner;
    for (let t = 0; t < count; t++) {
      const [a0, b0, c0] = [start(la, t), start(lb, t), start(lc, t)];
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0, x = a0 + i * ai, y = b0 + j * bj; p < k; p++, x += ap, y += bp) s += a!.data[x]! * b!.data[y]!;
          out.data[c0 + i * lc.row + j] = s * scale;
        }
      }
    }
    return out;
  },
  // Per matrix, the rule of matmul: dA and dB are products of g with the other operand (scaled
  // alike). g has the result's layout; each cotangent is written in its operand's layout, heads
  // merged where that operand was read as heads, and padded with zero columns to the operand's
  // width (the cotangent sum joins the blocks of one projection: autodiff/cotangent_sum.ts).
  vjp(b, { g, inputs: [x, y], attrs }) {
    const tA = attrs.transA ?? false;
    const tB = attrs.transB ?? false;
    // g read as heads where the result was written merged: the same heads, all its columns.
    const viewG: HeadsView | undefined = attrs.mergeHeads ? { heads: planOf(b.node(x!).shape, b.node(y!).shape, attrs).heads, start: 0, size: b.node(g).shape[2] as number } : undefined;
    const viewA = attrs.headsA;
    const viewB = attrs.headsB;
    const opts = (first: HeadsView | undefined, second: HeadsView | undefined, merge: boolean): BatchMatmulAttrs => ({
      ...(attrs.scale === undefined ? {} : { scale: attrs.scale }),
      ...(first === undefined ? {} : { headsA: first }),
      ...(second === undefined ? {} : { headsB: second }),
      ...(merge ? { mergeHeads: true } : {}),
    });
    const dA = tA
      ? b.op('batch_matmul', [y!, g], { transA: tB, transB: true, ...opts(viewB, viewG, viewA !== undefined) })
      : b.op('batch_matmul', [g, y!], { transB: !tB, ...opts(viewG, viewB, viewA !== undefined) });
    const dB = tB
      ? b.op('batch_matmul', [g, x!], { transA: true, transB: tA, ...opts(viewG, viewA, viewB !== undefined) })
      : b.op('batch_matmul', [x!, g], { transA: !tA, ...opts(viewA, viewG, viewB !== undefined) });
    return [padded(b, dA, x!, viewA), padded(b, dB, y!, viewB)];
  },
  // One small product per matrix; attention's matrices (a context by a head width) are too small
  // for the packed GEMM's panels to pay off, so the simple f32x4 kernels of assembly/ run them.
  template: {
    kind: 'kernel',
    emit: (args) => batchedCall(args, '0', matrices(args)),
    // The threaded build may give each part a range of the matrices.
    parts: {
      units: (args) => {
        const { m, k, n } = planFor(args);
        return { count: matrices(args), group: 1, cost: m * k * n };
      },
      emit: batchedCall,
    },
  },
};

/** A cotangent in an operand's layout, widened with zero columns to the operand read as heads. */
function padded(b: Parameters<OpDef<BatchMatmulAttrs>['vjp']>[0], d: number, operand: number, view: HeadsView | undefined): number {
  if (view === undefined) return d;
  const shape = b.node(operand).shape;
  const width = shape[2] as number;
  const blocks = [...(view.start > 0 ? [zeroColumns(b, shape, view.start)] : []), d, ...(view.start + view.size < width ? [zeroColumns(b, shape, width - view.start - view.size)] : [])];
  return blocks.reduce((acc, block) => b.op('concat', [acc, block]));
}

const planFor = ({ inputs, attrs }: EmitArgs<BatchMatmulAttrs>): Plan => planOf(inputs[0]!.shape, inputs[1]!.shape, attrs);

/** The number of matrices (an i32 expression of n). */
const matrices = (args: EmitArgs<BatchMatmulAttrs>): string => planFor(args).lead.map(args.dim).join(' * ');

/** The products of matrices first … first + count − 1. */
function batchedCall(args: EmitArgs<BatchMatmulAttrs>, first: string, count: string): string {
  const { out, ins, attrs, outRow } = args;
  const { m, k, n, heads, a, b } = planFor(args);
  if (outRow !== undefined && !attrs.mergeHeads) throw new Error('internal: a batch_matmul written into columns of a wider tensor must merge its heads');
  const c = resultLayout(m, n, heads, attrs.mergeHeads, outRow);
  const address = (ptr: string, offset: number): string => (offset === 0 ? ptr : `${ptr} + ${offset * 4}`);
  const layout = (l: Layout): string => `${l.outer}, ${l.inner}, ${l.row}`;
  return `batched_mm(${out}, ${address(ins[0]!, a.offset)}, ${address(ins[1]!, b.offset)}, ${first}, ${count}, ${heads}, ${m}, ${k}, ${n}, ${attrs.transA ? 1 : 0}, ${attrs.transB ? 1 : 0}, <f32>${attrs.scale ?? 1}, ${layout(a)}, ${layout(b)}, ${layout(c)});`;
}
