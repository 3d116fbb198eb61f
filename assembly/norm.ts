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

/** Σ row[0..C). */
@inline
function rowSum(row: usize, C: i32): f32 {
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= C; c += 4) acc = f32x4.add(acc, v128.load(at(row, c)));
  let s = lanes(acc);
  for (; c < C; c++) s += load<f32>(at(row, c));
  return s;
}

/** Σ (row − μ)² over row[0..C): the variance two-pass, which keeps float32 accurate for rows far from 0. */
@inline
function centeredSquares(row: usize, mean: f32, C: i32): f32 {
  const m = f32x4.splat(mean);
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    const d = f32x4.sub(v128.load(at(row, c)), m);
    acc = f32x4.add(acc, f32x4.mul(d, d));
  }
  let s = lanes(acc);
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
 * x̂·mean(g⊙x̂) = (x − μ)·q: three passes over the row (Σx and Σg; Σ(x − μ)² and Σg⊙(x − μ); out).
 */
export function layer_norm_grad_rows(out: usize, x: usize, g: usize, R: i32, C: i32, epsilon: f32): void {
  const inverseWidth = <f32>1 / <f32>C;
  for (let r = 0; r < R; r++) {
    const xRow = at(x, r * C);
    const gRow = at(g, r * C);
    const dst = at(out, r * C);
    let xAcc = f32x4.splat(0);
    let gAcc = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      xAcc = f32x4.add(xAcc, v128.load(at(xRow, c)));
      gAcc = f32x4.add(gAcc, v128.load(at(gRow, c)));
    }
    let xSum = lanes(xAcc);
    let gSum = lanes(gAcc);
    for (; c < C; c++) {
      xSum += load<f32>(at(xRow, c));
      gSum += load<f32>(at(gRow, c));
    }
    const mean = xSum * inverseWidth;
    const gMean = gSum * inverseWidth;

    const m = f32x4.splat(mean);
    let squaresAcc = f32x4.splat(0);
    let dotAcc = f32x4.splat(0);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const d = f32x4.sub(v128.load(at(xRow, c)), m);
      squaresAcc = f32x4.add(squaresAcc, f32x4.mul(d, d));
      dotAcc = f32x4.add(dotAcc, f32x4.mul(v128.load(at(gRow, c)), d));
    }
    let squares = lanes(squaresAcc);
    let dot = lanes(dotAcc);
    for (; c < C; c++) {
      const d = load<f32>(at(xRow, c)) - mean;
      squares += d * d;
      dot += load<f32>(at(gRow, c)) * d;
    }
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
