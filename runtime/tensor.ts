/** A tensor handed to or from the user: row-major values and their shape. */
export interface Tensor<D extends Float32Array | Float64Array = Float32Array | Float64Array> {
  readonly shape: readonly number[];
  readonly data: D;
}

/** Nested arrays, a flat typed array (row-major) or a tensor. */
export type TensorLike = number | readonly unknown[] | Float32Array | Float64Array | Int32Array | Tensor;

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
