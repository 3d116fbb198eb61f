// Hand-written kernels the generated code calls. Pointers are byte addresses in the one arena;
// sizes are element counts, the batch bound at run time. f32x4 where the data is contiguous.

import { nabla_exp4 } from './simd_math';

@inline
function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** Logistic sigmoid, stable for large |x| (exp of a non-positive number only). */
@inline
export function nabla_sigmoid(x: f32): f32 {
  if (x >= 0) return <f32>1 / (<f32>1 + Mathf.exp(-x));
  const e = Mathf.exp(x);
  return e / (<f32>1 + e);
}

/** C[M,N] = A[M,K] · B[N,K]ᵀ: row-by-row dot products over contiguous K. */
export function mm_nt(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32): void {
  for (let i = 0; i < M; i++) {
    const arow = at(a, i * K);
    for (let j = 0; j < N; j++) {
      const brow = at(b, j * K);
      let acc = f32x4.splat(0);
      let p = 0;
      for (; p + 4 <= K; p += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(at(arow, p)), v128.load(at(brow, p))));
      let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
      for (; p < K; p++) s += load<f32>(at(arow, p)) * load<f32>(at(brow, p));
      store<f32>(at(c, i * N + j), s);
    }
  }
}

/** C[M,N] = A[M,K] · B[K,N]: each C row accumulates scaled B rows. */
export function mm_nn(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32): void {
  for (let i = 0; i < M; i++) {
    const crow = at(c, i * N);
    memory.fill(crow, 0, <usize>N << 2);
    for (let p = 0; p < K; p++) axpy(crow, at(b, p * N), load<f32>(at(a, i * K + p)), N);
  }
}

/** C[M,N] = A[K,M]ᵀ · B[K,N]: the weight gradient dYᵀ·X, accumulated over the K rows. */
export function mm_tn(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32): void {
  memory.fill(c, 0, (<usize>M * <usize>N) << 2);
  for (let p = 0; p < K; p++) {
    const brow = at(b, p * N);
    for (let i = 0; i < M; i++) axpy(at(c, i * N), brow, load<f32>(at(a, p * M + i)), N);
  }
}

/** C[M,N] = A[K,M]ᵀ · B[N,K]ᵀ (rare: scalar). */
export function mm_tt(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s: f32 = 0;
      for (let p = 0; p < K; p++) s += load<f32>(at(a, p * M + i)) * load<f32>(at(b, j * K + p));
      store<f32>(at(c, i * N + j), s);
    }
  }
}

/** y[0..n) += alpha · x[0..n) */
@inline
function axpy(y: usize, x: usize, alpha: f32, n: i32): void {
  const va = f32x4.splat(alpha);
  let j = 0;
  for (; j + 4 <= n; j += 4) v128.store(at(y, j), f32x4.add(v128.load(at(y, j)), f32x4.mul(va, v128.load(at(x, j)))));
  for (; j < n; j++) store<f32>(at(y, j), load<f32>(at(y, j)) + alpha * load<f32>(at(x, j)));
}

export function sum_all(out: usize, x: usize, count: i32): void {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= count; i += 4) acc = f32x4.add(acc, v128.load(at(x, i)));
  let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; i < count; i++) s += load<f32>(at(x, i));
  store<f32>(out, s);
}

/** out[C] = Σ_r x[r, :] (column sums: the bias gradient). */
export function sum_rows(out: usize, x: usize, R: i32, C: i32): void {
  memory.fill(out, 0, <usize>C << 2);
  for (let r = 0; r < R; r++) axpy(out, at(x, r * C), 1, C);
}

/** out[R] = Σ_c x[:, c] (row sums). */
export function sum_cols(out: usize, x: usize, R: i32, C: i32): void {
  for (let r = 0; r < R; r++) sum_all(at(out, r), at(x, r * C), C);
}

export function log_softmax_rows(out: usize, x: usize, R: i32, C: i32): void {
  for (let r = 0; r < R; r++) {
    const row = at(x, r * C);
    let max = load<f32>(row);
    for (let c = 1; c < C; c++) max = Mathf.max(max, load<f32>(at(row, c)));
    let s: f32 = 0;
    for (let c = 0; c < C; c++) s += Mathf.exp(load<f32>(at(row, c)) - max);
    const lse = max + Mathf.log(s);
    for (let c = 0; c < C; c++) store<f32>(at(out, r * C + c), load<f32>(at(row, c)) - lse);
  }
}

/**
 * log_softmax's row pass with its readers, the log-softmax itself never stored: p[r, :] =
 * softmax(x[r, :]) = exp(log_softmax) where p ≠ 0, and pick[r] = log_softmax(x)[r, label[r]]
 * where pick ≠ 0 (0 for a label outside [0, C), which the runtime rejects first). Each
 * exponential is taken once, four lanes at a time: p = e / Σe.
 */
export function softmax_xent_rows(p: usize, pick: usize, x: usize, labels: usize, R: i32, C: i32): void {
  for (let r = 0; r < R; r++) {
    const row = at(x, r * C);
    let max = load<f32>(row);
    for (let c = 1; c < C; c++) max = Mathf.max(max, load<f32>(at(row, c)));
    const m = f32x4.splat(max);
    let v = f32x4.splat(0);
    let s: f32 = 0;
    let c = 0;
    const dst = p != 0 ? at(p, r * C) : 0;
    for (; c + 4 <= C; c += 4) {
      const e = nabla_exp4(f32x4.sub(v128.load(at(row, c)), m));
      if (p != 0) v128.store(at(dst, c), e);
      v = f32x4.add(v, e);
    }
    for (; c < C; c++) {
      const e = Mathf.exp(load<f32>(at(row, c)) - max);
      if (p != 0) store<f32>(at(dst, c), e);
      s += e;
    }
    s += f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
    if (p != 0) for (let q = 0; q < C; q++) store<f32>(at(dst, q), load<f32>(at(dst, q)) / s);
    if (pick != 0) {
      const k = load<i32>(at(labels, r));
      store<f32>(at(pick, r), k >= 0 && k < C ? load<f32>(at(row, k)) - max - Mathf.log(s) : 0);
    }
  }
}

/** out[r, c] = g[r] · (p[r, c] − [c = label[r]]), p the softmax probabilities: the gradient above. */
export function softmax_xent_labels_grad(out: usize, p: usize, labels: usize, g: usize, R: i32, C: i32): void {
  for (let r = 0; r < R; r++) {
    const src = at(p, r * C);
    const dst = at(out, r * C);
    const gr = load<f32>(at(g, r));
    for (let c = 0; c < C; c++) store<f32>(at(dst, c), gr * load<f32>(at(src, c)));
    const k = load<i32>(at(labels, r));
    if (k >= 0 && k < C) store<f32>(at(dst, k), load<f32>(at(dst, k)) - gr);
  }
}

/** out[r] = x[r, label[r]]; a label outside [0, C) reads as 0 (the runtime rejects those first). */
export function gather_label(out: usize, x: usize, labels: usize, R: i32, C: i32): void {
  for (let r = 0; r < R; r++) {
    const k = load<i32>(at(labels, r));
    store<f32>(at(out, r), k >= 0 && k < C ? load<f32>(at(x, r * C + k)) : 0);
  }
}

/** Embedding lookup: row r of out[R, D] is row ids[r] of table[V, D]; an id outside [0, V) reads as zeros (the runtime rejects those first). */
export function gather_rows(out: usize, table: usize, ids: usize, R: i32, V: i32, D: i32): void {
  const bytes = <usize>D << 2;
  for (let r = 0; r < R; r++) {
    const k = load<i32>(at(ids, r));
    if (k >= 0 && k < V) memory.copy(at(out, r * D), at(table, k * D), bytes);
    else memory.fill(at(out, r * D), 0, bytes);
  }
}

/** Its adjoint: out[V, D] = Σ over r with ids[r] = v of g[r, :], rows added in order r = 0, 1, …. */
export function scatter_rows(out: usize, g: usize, ids: usize, R: i32, V: i32, D: i32): void {
  memory.fill(out, 0, (<usize>V * <usize>D) << 2);
  for (let r = 0; r < R; r++) {
    const k = load<i32>(at(ids, r));
    if (k < 0 || k >= V) continue;
    const src = at(g, r * D);
    const dst = at(out, k * D);
    let c = 0;
    for (; c + 4 <= D; c += 4) v128.store(at(dst, c), f32x4.add(v128.load(at(dst, c)), v128.load(at(src, c))));
    for (; c < D; c++) store<f32>(at(dst, c), load<f32>(at(dst, c)) + load<f32>(at(src, c)));
  }
}

/** out[R,C] = 0 except out[r, label[r]] = g[r]. */
export function scatter_label(out: usize, g: usize, labels: usize, R: i32, C: i32): void {
  memory.fill(out, 0, (<usize>R * <usize>C) << 2);
  for (let r = 0; r < R; r++) {
    const k = load<i32>(at(labels, r));
    if (k >= 0 && k < C) store<f32>(at(out, r * C + k), load<f32>(at(g, r)));
  }
}
