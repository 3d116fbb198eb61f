/** A concrete float64 tensor, as the interpreter holds it. Row-major. */
export interface Tensor64 {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export function tensor64(shape: readonly number[], data?: Float64Array): Tensor64 {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = data ?? new Float64Array(size);
  if (values.length !== size) throw new Error(`internal: tensor of shape [${shape.join(',')}] given ${values.length} values`);
  return { shape, data: values };
}

/** Row-major strides, with stride 0 on the axes that broadcast from `shape` to `target` (numpy rules). */
export function broadcastStrides(shape: readonly number[], target: readonly number[]): number[] {
  const strides = new Array<number>(target.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1, j = target.length - 1; i >= 0; i--, j--) {
    const d = shape[i]!;
    strides[j] = d === 1 && target[j] !== 1 ? 0 : stride;
    stride *= d;
  }
  return strides;
}

/** Calls visit(outIndex, offsets) for every element of `target`, offsets being each operand's flat index. */
export function forEachBroadcast(
  target: readonly number[],
  operands: readonly (readonly number[])[],
  visit: (outIndex: number, offsets: readonly number[]) => void,
): void {
  const strides = operands.map((s) => broadcastStrides(s, target));
  const size = target.reduce((a, b) => a * b, 1);
  const index = new Array<number>(target.length).fill(0);
  const offsets = new Array<number>(operands.length).fill(0);
  for (let flat = 0; flat < size; flat++) {
    visit(flat, offsets);
    for (let axis = target.length - 1; axis >= 0; axis--) {
      index[axis]!++;
      for (let k = 0; k < operands.length; k++) offsets[k]! += strides[k]![axis]!;
      if (index[axis]! < target[axis]!) break;
      for (let k = 0; k < operands.length; k++) offsets[k]! -= strides[k]![axis]! * target[axis]!;
      index[axis] = 0;
    }
  }
}
