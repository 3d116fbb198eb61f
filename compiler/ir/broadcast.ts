import { BATCH, type Dim, type Shape } from './types.ts';

/** numpy broadcasting over static shapes; the batch dimension only matches itself or 1. */
export function broadcastShapes(a: Shape, b: Shape): Dim[] | null {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else return null;
  }
  return out;
}

/** True when `from` broadcasts to exactly `to`. */
export function broadcastsTo(from: Shape, to: Shape): boolean {
  const joined = broadcastShapes(from, to);
  return joined !== null && joined.length === to.length && joined.every((d, i) => d === to[i]);
}

export function isBatch(d: Dim): d is typeof BATCH {
  return d === BATCH;
}

/** Whether an operand of shape `from` is broadcast along axis `axis` of `to` (numpy's rules: shapes right-aligned, a missing or size-1 axis repeats). */
export function broadcastAlong(to: Shape, from: Shape, axis: number): boolean {
  const skip = to.length - from.length;
  return axis < skip || (from[axis - skip] === 1 && to[axis] !== 1);
}
