// Layer normalization's row kernels (compiler/ops/layer_norm.ts): x̂ = (x − μ)·r per row of C
// values, r = 1/√(σ² + ε), and its gradient r·(g − mean(g) − x̂·mean(g⊙x̂)), which recomputes μ and
// r. Four lanes at a time with a scalar tail, so any width works. Each row depends on its own
// values only: a caller may run rows [r0, r1) by offsetting the addresses by r0·C floats.

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

/** out[r, :] = (x[r, :] − μ_r)·r_r for each of R rows of C values. */
export function layer_norm_rows(out: usize, x: usize, R: i32, C: i32, epsilon: f32): void {
  const inverseWidth = <f32>1 / <f32>C;
  for (let r = 0; r < R; r++) {
    const row = at(x, r * C);
    const dst = at(out, r * C);
    const mean = rowSum(row, C) * inverseWidth;
    const scale = <f32>1 / Mathf.sqrt(centeredSquares(row, mean, C) * inverseWidth + epsilon);
    const m = f32x4.splat(mean);
    const s = f32x4.splat(scale);
    let c = 0;
    for (; c + 4 <= C; c += 4) v128.store(at(dst, c), f32x4.mul(f32x4.sub(v128.load(at(row, c)), m), s));
    for (; c < C; c++) store<f32>(at(dst, c), (load<f32>(at(row, c)) - mean) * scale);
  }
}

/**
 * out[r, :] = r·(g − mean(g) − x̂·mean(g⊙x̂)) for each of R rows, x̂ = (x − μ)·r. With q = r²·mean(g⊙(x − μ)),
 * x̂·mean(g⊙x̂) = (x − μ)·q: three passes over the row (Σx; Σ(x − μ)², Σg⊙(x − μ) and Σg; out).
 */
export function layer_norm_grad_rows(out: usize, x: usize, g: usize, R: i32, C: i32, epsilon: f32): void {
  const inverseWidth = <f32>1 / <f32>C;
  for (let r = 0; r < R; r++) {
    const xRow = at(x, r * C);
    const gRow = at(g, r * C);
    const dst = at(out, r * C);
    const mean = rowSum(xRow, C) * inverseWidth;
    const m = f32x4.splat(mean);
    let squares0 = f32x4.splat(0);
    let squares1 = f32x4.splat(0);
    let dot0 = f32x4.splat(0);
    let dot1 = f32x4.splat(0);
    let gSum0 = f32x4.splat(0);
    let gSum1 = f32x4.splat(0);
    let c = 0;
    for (; c + 8 <= C; c += 8) {
      const d0 = f32x4.sub(v128.load(at(xRow, c)), m);
      const d1 = f32x4.sub(v128.load(at(xRow, c), 16), m);
      const g0 = v128.load(at(gRow, c));
      const g1 = v128.load(at(gRow, c), 16);
      squares0 = f32x4.add(squares0, f32x4.mul(d0, d0));
      squares1 = f32x4.add(squares1, f32x4.mul(d1, d1));
      dot0 = f32x4.add(dot0, f32x4.mul(g0, d0));
      dot1 = f32x4.add(dot1, f32x4.mul(g1, d1));
      gSum0 = f32x4.add(gSum0, g0);
      gSum1 = f32x4.add(gSum1, g1);
    }
    for (; c + 4 <= C; c += 4) {
      const d = f32x4.sub(v128.load(at(xRow, c)), m);
      const gv = v128.load(at(gRow, c));
      squares0 = f32x4.add(squares0, f32x4.mul(d, d));
      dot0 = f32x4.add(dot0, f32x4.mul(gv, d));
      gSum0 = f32x4.add(gSum0, gv);
    }
    let squares = lanes(f32x4.add(squares0, squares1));
    let dot = lanes(f32x4.add(dot0, dot1));
    let gSum = lanes(f32x4.add(gSum0, gSum1));
    for (; c < C; c++) {
      const d = load<f32>(at(xRow, c)) - mean;
      const gc = load<f32>(at(gRow, c));
      squares += d * d;
      dot += gc * d;
      gSum += gc;
    }
    const gMean = gSum * inverseWidth;
    const scale = <f32>1 / Mathf.sqrt(squares * inverseWidth + epsilon);
    const q = scale * scale * dot * inverseWidth;

    const s = f32x4.splat(scale);
    const gm = f32x4.splat(gMean);
    const qv = f32x4.splat(q);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const d = f32x4.sub(v128.load(at(xRow, c)), m);
      const centeredG = f32x4.sub(v128.load(at(gRow, c)), gm);
      v128.store(at(dst, c), f32x4.mul(s, f32x4.sub(centeredG, f32x4.mul(d, qv))));
    }
    for (; c < C; c++) {
      const d = load<f32>(at(xRow, c)) - mean;
      store<f32>(at(dst, c), scale * (load<f32>(at(gRow, c)) - gMean - d * q));
    }
  }
}
