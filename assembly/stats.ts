// Reductions over whole tensors for the non-finite guard and the gradient-flow telemetry. They
// read buffers the step has already written; nothing here is on the path of a plain train_step.

// Four independent accumulators per loop: one would make every iteration wait for the previous
// addition (4 cycles of latency), and on a W1 step that chain alone was most of the guard's cost.

/** The f64x2 square of lanes 0–1 (`high` false) or 2–3 of an f32x4, promoted. */
@inline
function squares(v: v128, high: bool): v128 {
  const d = high ? f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1)) : f64x2.promote_low_f32x4(v);
  return f64x2.mul(d, d);
}

/**
 * Σ x² in float64: finite for any finite float32 data, non-finite iff some element is NaN or
 * ±Inf. Eight elements per iteration into four f64x2 accumulators, then a scalar tail.
 */
export function sum_squares(ptr: usize, count: i32): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  let i = 0;
  for (; i + 8 <= count; i += 8) {
    const v = v128.load(ptr + (<usize>i << 2));
    const w = v128.load(ptr + (<usize>i << 2), 16);
    a0 = f64x2.add(a0, squares(v, false));
    a1 = f64x2.add(a1, squares(v, true));
    a2 = f64x2.add(a2, squares(w, false));
    a3 = f64x2.add(a3, squares(w, true));
  }
  const all = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  let acc = f64x2.extract_lane(all, 0) + f64x2.extract_lane(all, 1);
  for (; i < count; i++) {
    const v = <f64>load<f32>(ptr + (<usize>i << 2));
    acc += v * v;
  }
  return acc;
}

/** True iff no element is NaN or ±Inf: x − x is 0 for finite x and NaN otherwise, and NaN sticks. */
export function all_finite(ptr: usize, count: i32): bool {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= count; i += 16) {
    const p = ptr + (<usize>i << 2);
    const v0 = v128.load(p);
    const v1 = v128.load(p, 16);
    const v2 = v128.load(p, 32);
    const v3 = v128.load(p, 48);
    a0 = f32x4.add(a0, f32x4.sub(v0, v0));
    a1 = f32x4.add(a1, f32x4.sub(v1, v1));
    a2 = f32x4.add(a2, f32x4.sub(v2, v2));
    a3 = f32x4.add(a3, f32x4.sub(v3, v3));
  }
  const acc = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let tail: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; i < count; i++) {
    const v = load<f32>(ptr + (<usize>i << 2));
    tail += v - v;
  }
  return tail == 0;
}

/**
 * Σ (a − b)², float64: the squared norm of an update, new weights a against old b. The
 * difference is taken in float64 (a − b of nearby float32 values would round in float32), two
 * lanes at a time, then a scalar tail.
 */
export function diff_squares(a: usize, b: usize, count: i32): f64 {
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const va = v128.load(a + (<usize>i << 2));
    const vb = v128.load(b + (<usize>i << 2));
    const d0 = f64x2.sub(f64x2.promote_low_f32x4(va), f64x2.promote_low_f32x4(vb));
    const d1 = f64x2.sub(f64x2.promote_low_f32x4(f32x4.shuffle(va, va, 2, 3, 0, 1)), f64x2.promote_low_f32x4(f32x4.shuffle(vb, vb, 2, 3, 0, 1)));
    lo = f64x2.add(lo, f64x2.mul(d0, d0));
    hi = f64x2.add(hi, f64x2.mul(d1, d1));
  }
  const both = f64x2.add(lo, hi);
  let acc = f64x2.extract_lane(both, 0) + f64x2.extract_lane(both, 1);
  for (; i < count; i++) {
    const d = <f64>load<f32>(a + (<usize>i << 2)) - <f64>load<f32>(b + (<usize>i << 2));
    acc += d * d;
  }
  return acc;
}

/** Mean and (population) standard deviation of `count` values, written as two f32 at `out`. */
export function moments(ptr: usize, count: i32, out: usize): void {
  let sum: f64 = 0;
  let squares: f64 = 0;
  for (let i = 0; i < count; i++) {
    const v = <f64>load<f32>(ptr + (<usize>i << 2));
    sum += v;
    squares += v * v;
  }
  const mean = sum / <f64>count;
  store<f32>(out, <f32>mean);
  store<f32>(out + 4, <f32>Math.sqrt(Math.max(0, squares / <f64>count - mean * mean)));
}

/** Fraction of the `cols` units of a [rows, cols] activation that are ≤ 0 on every row: dead ReLUs. */
export function dead_fraction(ptr: usize, rows: i32, cols: i32): f32 {
  let dead = 0;
  for (let j = 0; j < cols; j++) {
    let alive = false;
    for (let i = 0; i < rows && !alive; i++) alive = load<f32>(ptr + (<usize>(i * cols + j) << 2)) > 0;
    if (!alive) dead++;
  }
  return <f32>dead / <f32>cols;
}

/** Fraction of values outside [lo, hi]: saturated sigmoid (0.01, 0.99) or tanh (−0.99, 0.99) units. */
export function saturated_fraction(ptr: usize, count: i32, lo: f32, hi: f32): f32 {
  let saturated = 0;
  for (let i = 0; i < count; i++) {
    const v = load<f32>(ptr + (<usize>i << 2));
    if (v < lo || v > hi) saturated++;
  }
  return <f32>saturated / <f32>count;
}
