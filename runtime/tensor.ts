import { InputError } from './errors.ts';

/** A tensor handed to or from the user: row-major values and their shape. */
export interface Tensor<D extends Float32Array | Float64Array = Float32Array | Float64Array> {
  readonly shape: readonly number[];
  readonly data: D;
}

/** Nested arrays, a flat typed array (row-major) or a tensor. */
export type TensorLike = number | readonly unknown[] | Float32Array | Float64Array | Int32Array | Tensor | { readonly shape: readonly number[]; readonly data: readonly number[] };

/**
 * What a model with several inputs (or outputs) is fed: one TensorLike per name, e.g.
 * `{ wide: xWide, deep: xDeep }`. A single-input model also takes the bare TensorLike.
 */
export type Feed = TensorLike | { readonly [name: string]: TensorLike };

export function shapeText(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Values per sample of a batch-first shape (`['N', h, w, c]` → h·w·c). */
export function rowWidth(shape: readonly (number | string)[]): number {
  return product(shape.slice(1) as number[]);
}

/** The positions of a prediction row: 1 for [N, width], `steps` for [N, steps, width] (a loss per position). */
export function positionsPerRow(shape: readonly (number | string)[]): number {
  return product(shape.slice(1, -1) as number[]);
}

/** The classes (units) of a prediction: its last axis. */
export function classesOf(shape: readonly (number | string)[]): number {
  return shape.at(-1) as number;
}

/** The largest finite float32. */
export const F32_MAX = 3.4028234663852886e38;

/**
 * True when `v` is finite once stored as float32, as the trainer stores every value: 1e39 is
 * finite in float64 and +Infinity in float32. The interpreter keeps float64 but refuses the same
 * values, so the two executors accept the same inputs.
 */
export function isFiniteF32(v: number): boolean {
  return Number.isFinite(Math.fround(v));
}

/** Why a value that is not a finite float32 is refused, for messages ("is NaN", "is 1e+39, +Infinity in float32"). */
export function nonFiniteText(v: number): string {
  return Number.isFinite(v) ? `${v}, which is ${Math.fround(v)} in float32` : `${v}`;
}

/** A value for an error message; never throws (JSON.stringify throws on BigInt and on cycles). */
export function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n (a BigInt)`;
  if (value instanceof ArrayBuffer) return `an ArrayBuffer of ${value.byteLength} bytes`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** `shape` is a list of non-negative integers; else a message saying which entry is not. */
export function shapeProblem(shape: unknown): string | null {
  if (!Array.isArray(shape)) return `shape ${show(shape)} is not a list of sizes`;
  const bad = shape.findIndex((d) => !(typeof d === 'number' && Number.isSafeInteger(d) && d >= 0));
  return bad < 0 ? null : `shape ${show(shape)}: entry ${bad} is ${show(shape[bad])}, not a non-negative integer`;
}

/** Appends the numbers of nested arrays of `shape` to `out`; an error names `path` and the index where they do not fit. */
export function flattenNested(value: unknown, shape: readonly number[], path: string, out: number[]): void {
  if (shape.length === 0) {
    if (typeof value !== 'number') throw new InputError(`${path} is ${show(value)}, not a number`);
    out.push(value);
    return;
  }
  if (!Array.isArray(value)) throw new InputError(`${path} should be an array of ${shape[0]}, got ${show(value)}`);
  if (value.length !== shape[0]) throw new InputError(`${path} has length ${value.length}, expected ${shape[0]}`);
  value.forEach((v, i) => flattenNested(v, shape.slice(1), `${path}[${i}]`, out));
}
