// The patches of a convolution as a matrix, and back. `im2col` turns an image [N,H,W,C] (or a
// sequence [N,L,C]) into one row per output position, [N,OH,OW,C·KH·KW] ([N,OL,C·K]), its columns
// in (c, kh, kw) order: PyTorch's conv kernel [out, in, kh, kw] read as [out, in·kh·kw] is then
// the other operand of the GEMM (matmul over leading axes) with no reshuffle. Padding reads as
// zeros. `col2im` is its adjoint: each patch entry added back to the pixel it came from (zero
// for padding). Each is the other's vjp, so a convolution's backward pass is ordinary IR.
import { tensor64, type Tensor64 } from '../ir/tensor.ts';
import { BATCH, shapeToString, type Dim, type Shape } from '../ir/types.ts';
import { ShapeError, type EmitArgs, type OpDef } from './op.ts';

/** One sliding window per spatial axis: 1 axis (sequences) or 2 (images, height then width). */
export interface WindowAttrs {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilation: readonly number[];
  /** Zeros before and after each spatial axis. */
  readonly pads: readonly (readonly [number, number])[];
}

export interface Col2imAttrs extends WindowAttrs {
  /** The spatial size of the image the patches came from (the output of col2im). */
  readonly spatial: readonly number[];
}

/** Output positions along one axis: ⌊(size + pads − dilated kernel) / stride⌋ + 1 (0 or less: the window does not fit). */
export function windowCount(size: number, kernel: number, stride: number, dilation: number, pads: readonly [number, number]): number {
  return Math.floor((size + pads[0] + pads[1] - (kernel - 1) * dilation - 1) / stride) + 1;
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function checkWindow(attrs: WindowAttrs, op: string): void {
  const s = attrs.kernel.length;
  const ok = (s === 1 || s === 2) && [attrs.strides, attrs.dilation, attrs.pads].every((list) => list.length === s);
  if (!ok) throw new ShapeError(`${op}: kernel, strides, dilation and pads need one entry per spatial axis (1 or 2)`);
}

/** The spatial sizes of the output positions, or a ShapeError naming the image and the window. */
function outputPositions(op: string, spatial: readonly Dim[], attrs: WindowAttrs): number[] {
  return spatial.map((size, a) => {
    if (typeof size !== 'number') throw new ShapeError(`${op}: spatial axis ${a} must be a fixed size, got ${size}`);
    const count = windowCount(size, attrs.kernel[a]!, attrs.strides[a]!, attrs.dilation[a]!, attrs.pads[a]!);
    if (count < 1) throw new ShapeError(`${op}: a window of ${attrs.kernel[a]} (dilation ${attrs.dilation[a]}) does not fit in ${size} + padding ${attrs.pads[a]!.join('+')}`);
    return count;
  });
}

/** The 2-D geometry the kernels take (a sequence is an image of height 1). */
interface Geometry {
  readonly H: number;
  readonly W: number;
  readonly C: number;
  readonly OH: number;
  readonly OW: number;
  readonly KH: number;
  readonly KW: number;
  readonly SH: number;
  readonly SW: number;
  readonly PT: number;
  readonly PL: number;
  readonly DH: number;
  readonly DW: number;
}

function geometry(imageShape: Shape, attrs: WindowAttrs): Geometry {
  const spatial = imageShape.slice(1, -1) as number[];
  const out = outputPositions('im2col', spatial, attrs);
  const two = <T>(list: readonly T[], one: T): [T, T] => (list.length === 2 ? [list[0]!, list[1]!] : [one, list[0]!]);
  const [H, W] = two(spatial, 1);
  const [OH, OW] = two(out, 1);
  const [KH, KW] = two(attrs.kernel, 1);
  const [SH, SW] = two(attrs.strides, 1);
  const [DH, DW] = two(attrs.dilation, 1);
  const [PT, PL] = two(attrs.pads.map((p) => p[0]), 0);
  return { H, W, C: imageShape.at(-1) as number, OH, OW, KH, KW, SH, SW, PT, PL, DH, DW };
}

/**
 * Visits every (patch entry, pixel) pair inside the image, in the order im2col writes them:
 * `visit(column index, pixel index)` over flat float64 buffers of n images.
 */
function forEachPatchEntry(n: number, g: Geometry, visit: (col: number, pixel: number) => void): void {
  let col = 0;
  for (let b = 0; b < n; b++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        for (let c = 0; c < g.C; c++) {
          for (let kh = 0; kh < g.KH; kh++) {
            const ih = oh * g.SH - g.PT + kh * g.DH;
            for (let kw = 0; kw < g.KW; kw++, col++) {
              const iw = ow * g.SW - g.PL + kw * g.DW;
              if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) visit(col, ((b * g.H + ih) * g.W + iw) * g.C + c);
            }
          }
        }
      }
    }
  }
}

/** The kernel call's arguments after the two addresses: n, then the geometry. */
function kernelArgs(g: Geometry, dim: (d: Dim) => string): string {
  return [dim(BATCH), g.H, g.W, g.C, g.OH, g.OW, g.KH, g.KW, g.SH, g.SW, g.PT, g.PL, g.DH, g.DW].join(', ');
}

const bound = (shape: Shape, n: number): number[] => shape.map((d) => (d === BATCH ? n : d));

export const im2col: OpDef<WindowAttrs> = {
  name: 'im2col',
  arity: 1,
  shape([x], attrs) {
    checkWindow(attrs, 'im2col');
    const s = attrs.kernel.length;
    if (x!.shape.length !== s + 2 || x!.shape[0] !== BATCH) throw new ShapeError(`im2col: a ${s}-D window needs [N, ${s === 2 ? 'H, W' : 'L'}, C], got ${shapeToString(x!.shape)}`);
    const c = x!.shape.at(-1)!;
    if (typeof c !== 'number') throw new ShapeError(`im2col: channels must be a fixed size, got ${shapeToString(x!.shape)}`);
    const out = outputPositions('im2col', x!.shape.slice(1, -1), attrs);
    return { shape: [BATCH, ...out, c * product(attrs.kernel)], dtype: 'f32' };
  },
  eval([x], attrs, ctx) {
    const out = tensor64(bound(ctx.node.shape, ctx.n));
    forEachPatchEntry(ctx.n, geometry(x!.shape, attrs), (col, pixel) => {
      out.data[col] = x!.data[pixel]!;
    });
    return out;
  },
  vjp: (b, { g, inputs: [x], attrs }) => [b.op('col2im', [g], { ...attrs, spatial: b.node(x!).shape.slice(1, -1) as number[] })],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, inputs, attrs, dim }: EmitArgs<WindowAttrs>) => `im2col(${out}, ${ins[0]}, ${kernelArgs(geometry(inputs[0]!.shape, attrs), dim)});`,
  },
};

/** The image shape col2im writes: [N, ...spatial, C], C from the patch width. */
function imageShape(cols: Shape, attrs: Col2imAttrs): Dim[] {
  return [BATCH, ...attrs.spatial, (cols.at(-1) as number) / product(attrs.kernel)];
}

export const col2im: OpDef<Col2imAttrs> = {
  name: 'col2im',
  arity: 1,
  shape([cols], attrs) {
    checkWindow(attrs, 'col2im');
    if (attrs.spatial.length !== attrs.kernel.length) throw new ShapeError(`col2im: spatial needs one size per kernel axis`);
    const image = imageShape(cols!.shape, attrs);
    const expected = im2col.shape([{ shape: image, dtype: 'f32' }], attrs).shape;
    if (!Number.isInteger(image.at(-1)) || shapeToString(expected) !== shapeToString(cols!.shape)) {
      throw new ShapeError(`col2im: ${shapeToString(cols!.shape)} are not the patches of an image of ${shapeToString(attrs.spatial)} with this window`);
    }
    return { shape: image, dtype: 'f32' };
  },
  eval([cols], attrs, ctx) {
    const image = bound(ctx.node.shape, ctx.n);
    const out: Tensor64 = tensor64(image);
    forEachPatchEntry(ctx.n, geometry(image, attrs), (col, pixel) => {
      out.data[pixel]! += cols!.data[col]!;
    });
    return out;
  },
  vjp: (b, { g, attrs }) => [b.op('im2col', [g], { kernel: attrs.kernel, strides: attrs.strides, dilation: attrs.dilation, pads: attrs.pads })],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, node, attrs, dim }: EmitArgs<Col2imAttrs>) => `col2im(${out}, ${ins[0]}, ${kernelArgs(geometry(node.shape, attrs), dim)});`,
  },
};
