// Layer normalization's row kernels (compiler/ops/layer_norm.ts): x̂ = (x − μ)·r per row of C
// values, r = 1/√(σ² + ε), and its gradient r·(g − mean(g) − x̂·mean(g⊙x̂)), which recomputes μ and
// r. Four lanes at a time with a scalar tail, so any width works. Each row depends on its own
// values only: a caller may run rows [r0, r1) by offsetting the addresses by r0·C floats.
//
// Rows go in pairs: a row's statistics are a chain of latencies (sums, the horizontal add, √, the
// division) that one row alone leaves the core waiting on, and the other row's work fills it
// (512 rows of 64, paired micro-benchmark: forward ×0.71, gradient ×0.88 against a row at a time).

@inline
function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

@inline
function lanes(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// The row sums keep four (or two) independent accumulators: a single one makes every addition
// wait for the one before (a row of 64 is 16 dependent additions), about a sixth of the forward
// kernel's time in a micro-benchmark of 512 rows.

/** Σ row[0..C). */
@inline
function rowSum(row: usize, C: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let c = 0;
  for (; c + 16 <= C; c += 16) {
    a0 = f32x4.add(a0, v128.load(at(row, c)));
    a1 = f32x4.add(a1, v128.load(at(row, c), 16));
    a2 = f32x4.add(a2, v128.load(at(row, c), 32));
    a3 = f32x4.add(a3, v128.load(at(row, c), 48));
  }
  for (; c + 4 <= C; c += 4) a0 = f32x4.add(a0, v128.load(at(row, c)));
  let s = lanes(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; c < C; c++) s += load<f32>(at(row, c));
  return s;
}

/** Σ (row − μ)² over row[0..C): the variance in two passes, which keeps float32 accurate for rows far from 0. */
@inline
function centeredSquares(row: usize, mean: f32, C: i32): f32 {
  const m = f32x4.splat(mean);
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let c = 0;
  for (; c + 16 <= C; c += 16) {
    const d0 = f32x4.sub(v128.load(at(row, c)), m);
    const d1 = f32x4.sub(v128.load(at(row, c), 16), m);
    const d2 = f32x4.sub(v128.load(at(row, c), 32), m);
    const d3 = f32x4.sub(v128.load(at(row, c), 48), m);
    a0 = f32x4.add(a0, f32x4.mul(d0, d0));
    a1 = f32x4.add(a1, f32x4.mul(d1, d1));
    a2 = f32x4.add(a2, f32x4.mul(d2, d2));
    a3 = f32x4.add(a3, f32x4.mul(d3, d3));
  }
  for (; c + 4 <= C; c += 4) {
    const d = f32x4.sub(v128.load(at(row, c)), m);
    a0 = f32x4.add(a0, f32x4.mul(d, d));
  }
  let s = lanes(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; c < C; c++) {
    const d = load<f32>(at(row, c)) - mean;
    s += d * d;
  }
  return s;
}

/** dst = (row − μ)·r over a row of C values. */
@inline
function normalizeRow(dst: usize, row: usize, C: i32, mean: f32, scale: f32): void {
  const m = f32x4.splat(mean);
  const s = f32x4.splat(scale);
  let c = 0;
  for (; c + 4 <= C; c += 4) v128.store(at(dst, c), f32x4.mul(f32x4.sub(v128.load(at(row, c)), m), s));
  for (; c < C; c++) store<f32>(at(dst, c), (load<f32>(at(row, c)) - mean) * scale);
}

/** out[r, :] = (x[r, :] − μ_r)·r_r for each of R rows of C values. */
export function layer_norm_rows(out: usize, x: usize, R: i32, C: i32, epsilon: f32): void {
  const inverseWidth = <f32>1 / <f32>C;
  let r = 0;
  for (; r + 2 <= R; r += 2) {
    const row0 = at(x, r * C);
    const row1 = at(x, r * C + C);
    const mean0 = rowSum(row0, C) * inverseWidth;
    const mean1 = rowSum(row1, C) * inverseWidth;
    const scale0 = <f32>1 / Mathf.sqrt(centeredSquares(row0, mean0, C) * inverseWidth + epsilon);
    const scale1 = <f32>1 / Mathf.sqrt(centeredSquares(row1, mean1, C) * inverseWidth + epsilon);
    normalizeRow(at(out, r * C), row0, C, mean0, scale0);
    normalizeRow(at(out, r * C + C), row1, C, mean1, scale1);
  }
  for (; r < R; r++) {
    const row = at(x, r * C);
    const mean = rowSum(row, C) * inverseWidth;
    normalizeRow(at(out, r * C), row, C, mean, <f32>1 / Mathf.sqrt(centeredSquares(row, mean, C) * inverseWidth + epsilon));
  }
}

/** Σ g⊙(x − μ) over a row of C values. */
@inline
function centeredDot(gRow: usize, xRow: usize, mean: f32, C: i32): f32 {
  const m = f32x4.splat(mean);
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let c = 0;
  for (; c + 8 <= C; c += 8) {
    a0 = f32x4.add(a0, f32x4.mul(v128.load(at(gRow, c)), f32x4.sub(v128.load(at(xRow, c)), m)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(at(gRow, c), 16), f32x4.sub(v128.load(at(xRow, c), 16), m)));
  }
  for (; c + 4 <= C; c += 4) a0 = f32x4.add(a0, f32x4.mul(v128.load(at(gRow, c)), f32x4.sub(v128.load(at(xRow, c)), m)));
  let s = lanes(f32x4.add(a0, a1));
  for (; c < C; c++) s += load<f32>(at(gRow, c)) * (load<f32>(at(xRow, c)) - mean);
  return s;
}

/** dst = r·(g − mean(g) − (x − μ)·q) over a row: q = r²·mean(g⊙(x − μ)) makes x̂·mean(g⊙x̂) = (x − μ)·q. */
@inline
function gradientRow(dst: usize, xRow: usize, gRow: usize, C: i32, mean: f32, gMean: f32, scale: f32, q: f32): void {
  const m = f32x4.splat(mean);
  const s = f32x4.splat(scale);
  const gm = f32x4.splat(gMean);
  const qv = f32x4.splat(q);
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    const d = f32x4.sub(v128.load(at(xRow, c)), m);
    const centeredG = f32x4.sub(v128.load(at(gRow, c)), gm);
    v128.store(at(dst, c), f32x4.mul(s, f32x4.sub(centeredG, f32x4.mul(d, qv))));
  }
  for (; c < C; c++) store<f32>(at(dst, c), scale * (load<f32>(at(gRow, c)) - gMean - (load<f32>(at(xRow, c)) - mean) * q));
}

/**
 * A row of the cotangent: g's own, or where a scale γ is given (γ ≠ 0), g⊙γ written into the
 * output row `dst` first and read back from there (gradientRow reads each element before it
 * stores that one), the same products a kernel of their own would store.
 */
@inline
function cotangentRow(g: usize, gamma: usize, dst: usize, C: i32): usize {
  if (gamma == 0) return g;
  let c = 0;
  for (; c + 4 <= C; c += 4) v128.store(at(dst, c), f32x4.mul(v128.load(at(g, c)), v128.load(at(gamma, c))));
  for (; c < C; c++) store<f32>(at(dst, c), load<f32>(at(g, c)) * load<f32>(at(gamma, c)));
  return dst;
}

/**
 * out[r, :] = r·(g − mean(g) − x̂·mean(g⊙x̂)) for each of R rows of C values, x̂ = (x − μ)·r, g
 * the cotangent times γ [C] where `gamma` is not 0.
 */
export function layer_norm_grad_rows(out: usize, x: usize, g: usize, gamma: usize, R: i32, C: i32, epsilon: f32): void {
  const inverseWidth = <f32>1 / <f32>C;
  let r = 0;
  for (; r + 2 <= R; r += 2) {
    const x0 = at(x, r * C);
    const x1 = at(x, r * C + C);
    const g0 = cotangentRow(at(g, r * C), gamma, at(out, r * C), C);
    const g1 = cotangentRow(at(g, r * C + C), gamma, at(out, r * C + C), C);
    const mean0 = rowSum(x0, C) * inverseWidth;
    const mean1 = rowSum(x1, C) * inverseWidth;
    const gMean0 = rowSum(g0, C) * inverseWidth;
    const gMean1 = rowSum(g1, C) * inverseWidth;
    const scale0 = <f32>1 / Mathf.sqrt(centeredSquares(x0, mean0, C) * inverseWidth + epsilon);
    const scale1 = <f32>1 / Mathf.sqrt(centeredSquares(x1, mean1, C) * inverseWidth + epsilon);
    const q0 = scale0 * scale0 * centeredDot(g0, x0, mean0, C) * inverseWidth;
    const q1 = scale1 * scale1 * centeredDot(g1, x1, mean1, C) * inverseWidth;
    gradientRow(at(out, r * C), x0, g0, C, mean0, gMean0, scale0, q0);
    gradientRow(at(out, r * C + C), x1, g1, C, mean1, gMean1, scale1, q1);
  }
  for (; r < R; r++) {
    const x0 = at(x, r * C);
    const g0 = cotangentRow(at(g, r * C), gamma, at(out, r * C), C);
    const mean0 = rowSum(x0, C) * inverseWidth;
    const scale0 = <f32>1 / Mathf.sqrt(centeredSquares(x0, mean0, C) * inverseWidth + epsilon);
    gradientRow(at(out, r * C), x0, g0, C, mean0, rowSum(g0, C) * inverseWidth, scale0, scale0 * scale0 * centeredDot(g0, x0, mean0, C) * inverseWidth);
  }
}
