// The window geometry the pooling ops share: Keras/TensorFlow's 'valid' and 'same' padding over
// the spatial axes of a channels-last tensor ([N, L, C] or [N, H, W, C]). A 1-D tensor is walked
// as a 2-D one of height 1, so one set of loops (and one set of kernels) serves both.
import { shapeToString, type Dim, type Shape } from '../ir/types.ts';
import { ShapeError } from './op.ts';

export type Padding = 'valid' | 'same';

export interface PoolAttrs {
  /** Window extent per spatial axis (1 or 2 of them). */
  readonly pool: readonly number[];
  readonly strides: readonly number[];
  readonly padding: Padding;
}

/** The 2-D view: input [N, H, W, C], output [N, OH, OW, C], window KH×KW, stride SH×SW, padding before PT, PL. */
export interface Window2d {
  readonly n: Dim;
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly oh: number;
  readonly ow: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly pt: number;
  readonly pl: number;
}

/**
 * Output extent and padding before, as TensorFlow computes them: 'valid' fits whole windows
 * (⌊(in − k)/s⌋ + 1); 'same' gives ⌈in/s⌉ outputs and pads (out − 1)·s + k − in, the smaller
 * half before. Every 'same' window then holds at least one element of the input.
 */
function axis(op: string, input: number, k: number, s: number, padding: Padding): [number, number] {
  if (padding === 'valid') {
    if (k > input) throw new ShapeError(`${op}: a window of ${k} does not fit an axis of ${input} with 'valid' padding`);
    return [Math.floor((input - k) / s) + 1, 0];
  }
  const out = Math.ceil(input / s);
  return [out, Math.floor(Math.max((out - 1) * s + k - input, 0) / 2)];
}

const positive = (v: number): boolean => Number.isInteger(v) && v > 0;

/** The geometry of pooling `x` (shape checked), or a ShapeError naming `op`. */
export function window2d(op: string, x: Shape, { pool, strides, padding }: PoolAttrs): Window2d {
  const spatial = x.length - 2;
  if (spatial !== 1 && spatial !== 2) throw new ShapeError(`${op}: expected [N, L, C] or [N, H, W, C], got ${shapeToString(x)}`);
  if (pool.length !== spatial || strides.length !== spatial || !pool.every(positive) || !strides.every(positive)) {
    throw new ShapeError(`${op}: pool [${pool.join(', ')}] and strides [${strides.join(', ')}] must be ${spatial} positive integers for ${shapeToString(x)}`);
  }
  if (padding !== 'valid' && padding !== 'same') throw new ShapeError(`${op}: padding must be 'valid' or 'same', got '${String(padding)}'`);
  const dims = x.slice(1);
  if (!dims.every((d) => typeof d === 'number')) throw new ShapeError(`${op}: only the batch axis of ${shapeToString(x)} may vary`);
  const [h, w, c] = (spatial === 1 ? [1, ...dims] : dims) as number[];
  const [kh, kw] = spatial === 1 ? [1, pool[0]!] : [pool[0]!, pool[1]!];
  const [sh, sw] = spatial === 1 ? [1, strides[0]!] : [strides[0]!, strides[1]!];
  const [oh, pt] = axis(op, h!, kh, sh, padding);
  const [ow, pl] = axis(op, w!, kw, sw, padding);
  return { n: x[0]!, h: h!, w: w!, c: c!, oh, ow, kh, kw, sh, sw, pt, pl };
}

/** The pooled shape: x's, with each spatial axis at its output extent. */
export function pooledShape(x: Shape, g: Window2d): Shape {
  return x.length === 3 ? [x[0]!, g.ow, g.c] : [x[0]!, g.oh, g.ow, g.c];
}

/**
 * Visits each output cell (flat index, row-major over [n, oh, ow]) with the flat input cells of
 * its window that lie inside the input, in scan order (rows, then columns): indices of the
 * [n, h, w] cell, to be multiplied by C and offset by the channel.
 */
export function forEachWindow(g: Window2d, n: number, visit: (outCell: number, inCells: readonly number[]) => void): void {
  const cells: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < g.oh; i++) {
      for (let j = 0; j < g.ow; j++) {
        cells.length = 0;
        for (let di = 0; di < g.kh; di++) {
          const y = i * g.sh - g.pt + di;
          if (y < 0 || y >= g.h) continue;
          for (let dj = 0; dj < g.kw; dj++) {
            const x = j * g.sw - g.pl + dj;
            if (x >= 0 && x < g.w) cells.push((b * g.h + y) * g.w + x);
          }
        }
        visit((b * g.oh + i) * g.ow + j, cells);
      }
    }
  }
}

/** The kernels' geometry arguments after the batch: H, W, C, OH, OW, KH, KW, SH, SW, PT, PL. */
export const windowArgs = (g: Window2d): string => [g.h, g.w, g.c, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl].join(', ');
