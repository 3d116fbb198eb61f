// What the convolution layers share: Keras's window options (kernelSize, strides, padding,
// dilationRate; a number means the same on every spatial axis), the output size, TensorFlow's
// 'same' padding rule, and the lowering of a convolution onto the GEMM (im2col, then matmul over
// leading axes with the kernel read as [out, in·kh·kw], bias and activation as Dense has them).
import { z } from 'zod';
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';
import { windowCount, type WindowAttrs } from '../ops/im2col.ts';
import { affine } from './dense.ts';
import { positiveInt } from './fields.ts';
import { field } from './interop/keras.ts';
import { KerasFieldError, type KerasConfig } from './interop/types.ts';
import { LayerShapeError, type FeatureShape } from './layer.ts';

/** A size per spatial axis: one number for all, or a list of one per axis. */
export const perAxis = z.union([positiveInt, z.array(positiveInt).min(1).max(2)], { error: 'expected a positive integer or a list of them' });

/** Keras's window options of a convolution (and their defaults). */
export const windowOptions = {
  kernelSize: perAxis,
  strides: perAxis.default(1),
  padding: z.enum(['valid', 'same'], { error: 'expected "valid" or "same"' }).default('valid'),
  dilationRate: perAxis.default(1),
};

export interface WindowOptions {
  readonly kernelSize: number | readonly number[];
  readonly strides: number | readonly number[];
  readonly padding: 'valid' | 'same';
  readonly dilationRate: number | readonly number[];
}

/** `value` as one size per spatial axis, or a LayerShapeError naming the option. */
export function sizes(type: string, option: string, value: number | readonly number[], axes: number): number[] {
  if (typeof value === 'number') return Array.from({ length: axes }, () => value);
  if (value.length !== axes) throw new LayerShapeError(`${type}: ${option} needs ${axes} value${axes === 1 ? '' : 's'} (one per spatial axis), got [${value.join(', ')}]`);
  return [...value];
}

/**
 * TensorFlow's 'same' padding: the output has ⌈in / stride⌉ positions, the total padding
 * max((⌈in/s⌉ − 1)·s + (k − 1)·d + 1 − in, 0) split with the odd one after (bottom, right).
 */
export function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * The window of a convolution over `input` ([h, w, c] or [steps, c]) with `axes` spatial axes:
 * im2col's attributes, or a LayerShapeError saying what does not fit.
 */
export function windowOf(type: string, o: WindowOptions, input: FeatureShape, axes: 1 | 2): WindowAttrs {
  const wanted = axes === 2 ? '[height, width, channels]' : '[steps, channels]';
  if (input.length !== axes + 1) throw new LayerShapeError(`${type} takes ${wanted} (rank ${axes + 1}), got a rank-${input.length} input`);
  const kernel = sizes(type, 'kernelSize', o.kernelSize, axes);
  const strides = sizes(type, 'strides', o.strides, axes);
  const dilation = sizes(type, 'dilationRate', o.dilationRate, axes);
  const spatial = input.slice(0, axes);
  const pads = spatial.map((size, a) => (o.padding === 'same' ? samePads(size, kernel[a]!, strides[a]!, dilation[a]!) : ([0, 0] as [number, number])));
  spatial.forEach((size, a) => {
    if (windowCount(size, kernel[a]!, strides[a]!, dilation[a]!, pads[a]!) < 1) {
      throw new LayerShapeError(`${type}: a kernel of ${kernel[a]} (dilation ${dilation[a]}) does not fit in ${size} (padding 'valid'); use padding 'same' or a smaller kernel`);
    }
  });
  return { kernel, strides, dilation, pads };
}

/** The output positions of a window over `input` (without the channels). */
export function positions(input: FeatureShape, w: WindowAttrs): number[] {
  return w.kernel.map((k, a) => windowCount(input[a]!, k, w.strides[a]!, w.dilation[a]!, w.pads[a]!));
}

/** A 1×1 window with stride 1 and no padding: every patch is one pixel, the image already is the patch matrix. */
export function isPointwise(w: WindowAttrs): boolean {
  return w.kernel.every((k, a) => k === 1 && w.strides[a] === 1 && w.pads[a]![0] === 0 && w.pads[a]![1] === 0);
}

/** Keras's fans of a conv kernel: receptive field × input channels in, × output channels out. */
export function convFans(kernel: readonly number[], inChannels: number, outChannels: number): { in: number; out: number } {
  const field = kernel.reduce((a, b) => a * b, 1);
  return { in: field * inChannels, out: field * outChannels };
}

/**
 * The convolution z = patches(x)·W[out, in·kh·kw]ᵀ + b, for a kernel `weight` in PyTorch's
 * layout [out, in, (kh,) kw]: the patches' (c, kh, kw) column order is that layout read as rows.
 */
export function convolve(b: GraphBuilder, x: NodeId, window: WindowAttrs, weight: NodeId, bias: NodeId | null): NodeId {
  const [out, ...rest] = b.node(weight).shape as number[];
  const patches = isPointwise(window) ? x : b.op('im2col', [x], window);
  const rows = b.op('reshape', [weight], { shape: [out!, rest.reduce((a, c) => a * c, 1)] });
  return affine(b, patches, rows, bias);
}

/** A Keras size field (a number or a list) as nabla's option. */
export function kerasSizes(c: KerasConfig, key: string, fallback?: number): number | number[] {
  const value = c[key] ?? fallback;
  if (typeof value === 'number') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return value as number[];
  throw new KerasFieldError(key, `expected ${key} to be a number or a list of numbers, got ${JSON.stringify(value)}`);
}

/** Keras's data_format field: channels_last (or absent), else refused. */
export function kerasWindowFormat(c: KerasConfig): void {
  const format = c['data_format'];
  if (format !== undefined && format !== null && format !== 'channels_last') throw new KerasFieldError('data_format', `data_format '${String(format)}' is not supported: nabla's images are channels_last`);
}

/** The window options as Keras's config fields (kerasWindow's inverse). */
export function kerasWindowConfig(o: { readonly kernelSize: unknown; readonly strides: unknown; readonly padding: unknown; readonly dilationRate: unknown }): Record<string, unknown> {
  return { kernel_size: o.kernelSize, strides: o.strides, padding: o.padding, data_format: 'channels_last', dilation_rate: o.dilationRate };
}

/** Keras's channels_last and padding fields, refused where nabla has no equivalent. */
export function kerasWindow(c: KerasConfig, dilationKey = 'dilation_rate'): Record<string, unknown> {
  kerasWindowFormat(c);
  const padding = field<string>(c, 'padding', 'string', 'valid');
  if (padding !== 'valid' && padding !== 'same') throw new KerasFieldError('padding', `padding '${padding}' is not supported: 'valid' or 'same'`);
  return { kernelSize: kerasSizes(c, 'kernel_size'), strides: kerasSizes(c, 'strides', 1), padding, dilationRate: kerasSizes(c, dilationKey, 1) };
}
