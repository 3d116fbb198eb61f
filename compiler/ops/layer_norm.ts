// Layer normalization over the last axis of any rank, γ and β left to the caller (elementwise,
// fused with what follows): x̂ = (x − μ)/√(σ² + ε) per row, σ² the biased variance (Keras,
// PyTorch). One op rather than its composition (sum, mul, sub, mul, sum, add, sqrt, div): a row
// kernel reads x in three passes where the composition took seven kernels forward and eight for
// autodiff's path through μ and σ², each a pass over memory.
//
// vjp: layer_norm_grad(x, g) = r·(g − mean(g) − x̂·mean(g⊙x̂)), r = 1/√(σ² + ε), which recomputes
// μ and r from x (two cheap passes over a row already in cache) instead of reading them saved by
// the forward pass: an op has one output, so saving them would take a second forward op and
// buffer, and each row of either kernel depends on that row alone.
// layer_norm_grad's own vjp (a second derivative) is composed of primitives below.
import type { GraphBuilder } from '../ir/builder.ts';
import { tensor64 } from '../ir/tensor.ts';
import { sameShape, shapeToString, type NodeId, type Shape } from '../ir/types.ts';
import { rowsExpression } from './labels.ts';
import { ShapeError, unitAddress, type EmitArgs, type OpDef, type PartedUnits, type TypedShape } from './op.ts';

export interface LayerNormAttrs {
  readonly epsilon: number;
}

/** The width of the normalized rows: the last axis, which must be a fixed size. */
function rowWidth(op: string, x: TypedShape, { epsilon }: LayerNormAttrs): number {
  const width = x.shape.at(-1);
  if (typeof width !== 'number') throw new ShapeError(`${op} normalizes the last axis, which must be a fixed size; got ${shapeToString(x.shape)}`);
  if (!(epsilon > 0 && Number.isFinite(epsilon))) throw new ShapeError(`${op}: epsilon must be a positive finite number, got ${epsilon}`);
  return width;
}

/** μ and r = 1/√(σ² + ε) of row [start, start + width) of x. */
function rowStatistics(x: Float64Array, start: number, width: number, epsilon: number): { readonly mean: number; readonly r: number } {
  let sum = 0;
  for (let c = 0; c < width; c++) sum += x[start + c]!;
  const mean = sum / width;
  let squares = 0;
  for (let c = 0; c < width; c++) squares += (x[start + c]! - mean) ** 2;
  return { mean, r: 1 / Math.sqrt(squares / width + epsilon) };
}

/** The mean over the last axis, kept as an axis of size 1 (broadcasts back over the row). */
function rowMean(b: GraphBuilder, t: NodeId): NodeId {
  const shape: Shape = b.node(t).shape;
  return b.op('mul', [b.op('sum', [t], { axes: [shape.length - 1], keepDims: true }), b.constant(1 / (shape.at(-1) as number))]);
}

const rowCount = ({ node, dim }: EmitArgs<LayerNormAttrs>): string => rowsExpression(node.shape, dim) || '1';

/**
 * The call of `kernel` (assembly/norm.ts) on rows first … first + count − 1: x, g and the output
 * are row-major in the same rows; the gradient's scale is a row γ read whole, or 0 for none.
 */
function rowsCall(kernel: string, { out, ins, inputs, node, attrs }: EmitArgs<LayerNormAttrs>, first: string, count: string): string {
  const width = node.shape.at(-1) as number;
  const rows = [out, ...ins.slice(0, 2)].map((ptr) => unitAddress(ptr, first, width));
  const gamma = inputs[2];
  if (gamma !== undefined && (gamma.op === 'constant' ? gamma.attrs.value !== 1 : gamma.shape.length !== 1)) throw new Error(`internal: layer_norm_grad %${node.id} scaled by other than a row or 1`);
  const scale = gamma === undefined ? [] : [gamma.op === 'constant' ? '0' : ins[2]!];
  return `${kernel}(${[...rows, ...scale].join(', ')}, ${count}, ${width}, ${String(attrs.epsilon)});`;
}

/**
 * The threaded build may give each part a range of rows. `cost`: one element's time in
 * multiply-adds of a packed product (0.04 ns): the forward kernel takes about 0.26 ns an element,
 * the gradient 0.52 ns (512 rows of 64, a micro-benchmark of assembly/norm.ts).
 */
function rowParts(kernel: string, cost: number): PartedUnits<LayerNormAttrs> {
  return {
    units: (args) => ({ count: rowCount(args), group: 1, cost: (args.node.shape.at(-1) as number) * cost }),
    emit: (args, first, count) => rowsCall(kernel, args, first, count),
  };
}

export const layer_norm: OpDef<LayerNormAttrs> = {
  name: 'layer_norm',
  arity: 1,
  shape([x], attrs) {
    rowWidth('layer_norm', x!, attrs);
    return { shape: x!.shape, dtype: 'f32' };
  },
  eval([x], { epsilon }) {
    const width = x!.shape.at(-1)!;
    const out = tensor64(x!.shape);
    for (let start = 0; start < x!.data.length; start += width) {
      const { mean, r } = rowStatistics(x!.data, start, width, epsilon);
      for (let c = start; c < start + width; c++) out.data[c] = (x!.data[c]! - mean) * r;
    }
    return out;
  },
  vjp: (b, { g, inputs: [x], attrs }) => [b.op('layer_norm_grad', [x!, g, b.constant(1)], attrs)],
  template: { kind: 'kernel', emit: (args) => rowsCall('layer_norm_rows', args, '0', rowCount(args)), parts: rowParts('layer_norm_rows', 6) },
};

/**
 * layer_norm_grad(x, g, γ) = the gradient above at the cotangent g⊙γ, γ a row [C] (the layer's
 * scale, whose product with the cotangent passes/simplify.ts folds in) or the constant 1: the
 * kernel forms g⊙γ a row at a time, in the output row it then overwrites, with no pass of its own.
 */
export const layer_norm_grad: OpDef<LayerNormAttrs> = {
  name: 'layer_norm_grad',
  arity: 3,
  shape([x, g, scale], attrs) {
    const width = rowWidth('layer_norm_grad', x!, attrs);
    if (!sameShape(g!.shape, x!.shape)) throw new ShapeError(`layer_norm_grad: the cotangent must have x's shape ${shapeToString(x!.shape)}, got ${shapeToString(g!.shape)}`);
    if (!(scale!.shape.length === 0 || (scale!.shape.length === 1 && scale!.shape[0] === width))) throw new ShapeError(`layer_norm_grad: the scale must be a scalar or a row [${width}], got ${shapeToString(scale!.shape)}`);
    return { shape: x!.shape, dtype: 'f32' };
  },
  eval([x, g, scale], { epsilon }) {
    const width = x!.shape.at(-1)!;
    const out = tensor64(x!.shape);
    const gs = (c: number, start: number): number => g!.data[c]! * (scale!.data.length === 1 ? scale!.data[0]! : scale!.data[c - start]!);
    for (let start = 0; start < x!.data.length; start += width) {
      const { mean, r } = rowStatistics(x!.data, start, width, epsilon);
      let gSum = 0;
      let gxSum = 0;
      for (let c = start; c < start + width; c++) {
        gSum += gs(c, start);
        gxSum += gs(c, start) * (x!.data[c]! - mean) * r;
      }
      for (let c = start; c < start + width; c++) out.data[c] = r * (gs(c, start) - gSum / width - (x!.data[c]! - mean) * r * (gxSum / width));
    }
    return out;
  },
  // The map g ↦ dx is r·(I − 11ᵀ/C − x̂x̂ᵀ/C), symmetric, so the cotangent u of dx gives g⊙γ the
  // gradient layer_norm_grad(x, u, 1): g gets it times γ, γ gets it times g (summed over the rows
  // by the backward walker). Through x (m = the row mean, a = m(g⊙γ)):
  //   r²·[(3·m(g⊙x̂)·m(u⊙x̂) − m(u⊙(g − a)))·x̂ − m(u⊙x̂)·(g − a) − m(g⊙x̂)·(u − m(u))],
  // the derivative through the centered x, r and m(g⊙x̂), projected back through the centering.
  vjp: (b, { g: u, inputs: [x, gIn, scale], attrs }) => {
    const scaleNode = b.node(scale!);
    const unscaled = scaleNode.op === 'constant' && scaleNode.attrs.value === 1;
    const g = unscaled ? gIn! : b.op('mul', [gIn!, scale!]);
    const xHat = b.op('layer_norm', [x!], attrs);
    const centered = b.op('sub', [x!, rowMean(b, x!)]);
    const r2 = b.op('div', [b.constant(1), b.op('add', [rowMean(b, b.op('mul', [centered, centered])), b.constant(attrs.epsilon)])]);
    const gCentered = b.op('sub', [g, rowMean(b, g)]);
    const uCentered = b.op('sub', [u, rowMean(b, u)]);
    const gx = rowMean(b, b.op('mul', [g, xHat]));
    const ux = rowMean(b, b.op('mul', [u, xHat]));
    const ug = rowMean(b, b.op('mul', [u, gCentered]));
    const xHatScale = b.op('sub', [b.op('mul', [b.constant(3), b.op('mul', [gx, ux])]), ug]);
    const inner = b.op('sub', [b.op('sub', [b.op('mul', [xHatScale, xHat]), b.op('mul', [ux, gCentered])]), b.op('mul', [gx, uCentered])]);
    const dScaled = b.op('layer_norm_grad', [x!, u, b.constant(1)], attrs);
    if (unscaled) return [b.op('mul', [r2, inner]), dScaled, null];
    return [b.op('mul', [r2, inner]), b.op('mul', [dScaled, scale!]), b.op('mul', [dScaled, gIn!])];
  },
  template: { kind: 'kernel', emit: (args) => rowsCall('layer_norm_grad_rows', args, '0', rowCount(args)), parts: rowParts('layer_norm_grad_rows', 13) },
};
