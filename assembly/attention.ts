// Kernels of attention: products batched over leading axes (reading and writing heads in place),
// the row softmax with its optional causal mask and its gradient (compiler/ops/batch_matmul.ts,
// softmax.ts).
import { madd } from './madd';
import { nabla_exp4 } from './simd_math';

@inline
function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/**
 * C[t] = scale · op(A[t]) · op(B[t]) for t = first … first + count − 1; op(A) is [M, K], op(B) is
 * [K, N]. Each operand's matrix t starts at (t / H)·outer + (t mod H)·inner elements and its rows
 * are `row` apart (elements along a row are adjacent): a matrix of heads [N, H, T, d] stored
 * contiguously, or the head h of a tensor [N, T, H·d] read in place (rows H·d apart), which is how
 * attention splits and merges heads without a transpose (compiler/ops/batch_matmul.ts).
 * Attention's matrices (a context by a head width: 16 × 16 in examples/words) are too small for
 * the packed GEMM, so where N is a multiple of 4 (and K too when B is transposed) a block of C is
 * held in registers; other sizes take the scalar loop.
 */
export function batched_mm(
  c: usize, a: usize, b: usize, first: i32, count: i32, H: i32, M: i32, K: i32, N: i32, transA: i32, transB: i32, scale: f32,
  aOuter: i32, aInner: i32, aRow: i32, bOuter: i32, bInner: i32, bRow: i32, cOuter: i32, cInner: i32, cRow: i32,
): void {
  const blocked = (N & 3) == 0 && (!transB || (K & 3) == 0) && !(transA && transB);
  // op(A)[i, p] = A[i·ai + p·ap], op(B)[p, j] = B[p·bp + j·bj].
  const ai = transA ? 1 : aRow;
  const ap = transA ? aRow : 1;
  const bp = transB ? 1 : bRow;
  const bj = transB ? bRow : 1;
  for (let t = first; t < first + count; t++) {
    const outer = t / H;
    const inner = t - outer * H;
    const ct = at(c, outer * cOuter + inner * cInner);
    const at_ = at(a, outer * aOuter + inner * aInner);
    const bt = at(b, outer * bOuter + inner * bInner);
    if (!blocked) mm_strided(ct, at_, bt, M, K, N, ai, ap, bp, bj, cRow, scale);
    else if (transB) mm_blocks_bt(ct, at_, bt, M, K, N, aRow, bRow, cRow, scale);
    else mm_blocks(ct, at_, bt, M, K, N, ai, ap, bRow, cRow, scale);
  }
}

/** C[i·ldc + j] = scale · Σ_p A[i·ai + p·ap] · B[p·bp + j·bj], one element at a time (any sizes). */
function mm_strided(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, ai: i32, ap: i32, bp: i32, bj: i32, ldc: i32, scale: f32): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s: f32 = 0;
      for (let p = 0; p < K; p++) s += load<f32>(at(a, i * ai + p * ap)) * load<f32>(at(b, p * bp + j * bj));
      store<f32>(at(c, i * ldc + j), s * scale);
    }
  }
}

/**
 * C[M, N] = scale · op(A) · B with B [K, N] (rows ldb apart), N a multiple of 4: C in blocks of four
 * rows by eight columns (four in the last block where N is not a multiple of 8), one accumulator
 * per row and four columns, each step of K one row of B times four elements of op(A)
 * (op(A)[i, p] = A[i·ai + p·ap]). The last block of rows may be short: rows past M repeat row
 * M − 1 and are not stored.
 */
function mm_blocks(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, ai: i32, ap: i32, ldb: i32, ldc: i32, scale: f32): void {
  const rowStep = <usize>ai << 2;
  const kStep = <usize>ap << 2;
  const bStep = <usize>ldb << 2;
  const s = f32x4.splat(scale);
  let j = 0;
  for (; j + 8 <= N; j += 8) {
    for (let i = 0; i < M; i += 4) {
      const r1 = <usize>(min(i + 1, M - 1) - i) * rowStep;
      const r2 = <usize>(min(i + 2, M - 1) - i) * rowStep;
      const r3 = <usize>(min(i + 3, M - 1) - i) * rowStep;
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let c2 = f32x4.splat(0);
      let c3 = f32x4.splat(0);
      let d0 = f32x4.splat(0);
      let d1 = f32x4.splat(0);
      let d2 = f32x4.splat(0);
      let d3 = f32x4.splat(0);
      let pa = at(a, i * ai);
      let pb = at(b, j);
      for (let p = 0; p < K; p++) {
        const bp = v128.load(pb);
        const bq = v128.load(pb, 16);
        let x = v128.load32_splat(pa);
        c0 = madd(x, bp, c0);
        d0 = madd(x, bq, d0);
        x = v128.load32_splat(pa + r1);
        c1 = madd(x, bp, c1);
        d1 = madd(x, bq, d1);
        x = v128.load32_splat(pa + r2);
        c2 = madd(x, bp, c2);
        d2 = madd(x, bq, d2);
        x = v128.load32_splat(pa + r3);
        c3 = madd(x, bp, c3);
        d3 = madd(x, bq, d3);
        pa += kStep;
        pb += bStep;
      }
      storeRows(c, i, j, M, ldc, s, c0, c1, c2, c3);
      storeRows(c, i, j + 4, M, ldc, s, d0, d1, d2, d3);
    }
  }
  for (; j < N; j += 4) {
    for (let i = 0; i < M; i += 4) {
      const r1 = <usize>(min(i + 1, M - 1) - i) * rowStep;
      const r2 = <usize>(min(i + 2, M - 1) - i) * rowStep;
      const r3 = <usize>(min(i + 3, M - 1) - i) * rowStep;
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let c2 = f32x4.splat(0);
      let c3 = f32x4.splat(0);
      let pa = at(a, i * ai);
      let pb = at(b, j);
      for (let p = 0; p < K; p++) {
        const bp = v128.load(pb);
        c0 = madd(v128.load32_splat(pa), bp, c0);
        c1 = madd(v128.load32_splat(pa + r1), bp, c1);
        c2 = madd(v128.load32_splat(pa + r2), bp, c2);
        c3 = madd(v128.load32_splat(pa + r3), bp, c3);
        pa += kStep;
        pb += bStep;
      }
      storeRows(c, i, j, M, ldc, s, c0, c1, c2, c3);
    }
  }
}

/** Rows i..i+3 of a block of C (rows ldc apart) at column j, scaled, those below M. */
@inline
function storeRows(c: usize, i: i32, j: i32, M: i32, ldc: i32, s: v128, c0: v128, c1: v128, c2: v128, c3: v128): void {
  v128.store(at(c, i * ldc + j), f32x4.mul(c0, s));
  if (i + 1 < M) v128.store(at(c, (i + 1) * ldc + j), f32x4.mul(c1, s));
  if (i + 2 < M) v128.store(at(c, (i + 2) * ldc + j), f32x4.mul(c2, s));
  if (i + 3 < M) v128.store(at(c, (i + 3) * ldc + j), f32x4.mul(c3, s));
}

/**
 * C[M, N] = scale · A · Bᵀ with A [M, K] and B [N, K] (rows lda and ldb apart), N and K multiples
 * of 4 (Q·Kᵀ): two rows of A against four rows of B, eight dot products accumulated four lanes at a
 * time along K, each four summed across lanes once at the end into one vector of C.
 */
function mm_blocks_bt(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, lda: i32, ldb: i32, ldc: i32, scale: f32): void {
  const aRow = <usize>lda << 2;
  const bRow = <usize>ldb << 2;
  const s = f32x4.splat(scale);
  for (let j = 0; j < N; j += 4) {
    for (let i = 0; i < M; i += 2) {
      const i1 = min(i + 1, M - 1);
      let s0 = f32x4.splat(0);
      let s1 = f32x4.splat(0);
      let s2 = f32x4.splat(0);
      let s3 = f32x4.splat(0);
      let t0 = f32x4.splat(0);
      let t1 = f32x4.splat(0);
      let t2 = f32x4.splat(0);
      let t3 = f32x4.splat(0);
      let pa = a + <usize>i * aRow;
      const second = <usize>(i1 - i) * aRow;
      let pb = b + <usize>j * bRow;
      for (let p = 0; p < K; p += 4) {
        const x = v128.load(pa);
        const y = v128.load(pa + second);
        const b0 = v128.load(pb);
        const b1 = v128.load(pb + bRow);
        const b2 = v128.load(pb + 2 * bRow);
        const b3 = v128.load(pb + 3 * bRow);
        s0 = madd(x, b0, s0);
        s1 = madd(x, b1, s1);
        s2 = madd(x, b2, s2);
        s3 = madd(x, b3, s3);
        t0 = madd(y, b0, t0);
        t1 = madd(y, b1, t1);
        t2 = madd(y, b2, t2);
        t3 = madd(y, b3, t3);
        pa += 16;
        pb += 16;
      }
      v128.store(at(c, i * ldc + j), f32x4.mul(lanesSummed(s0, s1, s2, s3), s));
      if (i + 1 < M) v128.store(at(c, (i + 1) * ldc + j), f32x4.mul(lanesSummed(t0, t1, t2, t3), s));
    }
  }
}

/** [Σ lanes of s0, Σ s1, Σ s2, Σ s3]. */
@inline
function lanesSummed(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const u = f32x4.add(v128.shuffle<f32>(s0, s1, 0, 4, 1, 5), v128.shuffle<f32>(s0, s1, 2, 6, 3, 7));
  const v = f32x4.add(v128.shuffle<f32>(s2, s3, 0, 4, 1, 5), v128.shuffle<f32>(s2, s3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(u, v, 0, 1, 4, 5), v128.shuffle<f32>(u, v, 2, 3, 6, 7));
}

/**
 * Softmax of each row of x[R, C]. With Q > 0 the rows are [.., Q queries, C keys] and row r (query
 * r mod Q) sees keys j ≤ r mod Q only: the others get 0. Q = 0: every key. Where C is a multiple
 * of 4 the last vector of a row's visible keys lies inside the row, so it is read whole and its
 * hidden lanes masked: no key takes a scalar exp (a causal row of 16 keys has 1.5 of them on
 * average otherwise, most of the kernel's time).
 */
export function softmax_rows(out: usize, x: usize, R: i32, C: i32, Q: i32): void {
  if ((C & 3) != 0) {
    softmax_rows_scalar_tail(out, x, R, C, Q);
    return;
  }
  const lane = i32x4(0, 1, 2, 3);
  const hidden = f32x4.splat(-Infinity);
  for (let r = 0; r < R; r++) {
    const row = at(x, r * C);
    const dst = at(out, r * C);
    const seen = Q > 0 ? min(C, (r % Q) + 1) : C;
    const end = (seen + 3) & ~3;
    // Lanes at or past `seen` of the last vector read are hidden.
    const last = end - 4;
    const shown = i32x4.lt_s(i32x4.add(lane, i32x4.splat(last)), i32x4.splat(seen));
    let m = hidden;
    for (let c = 0; c < last; c += 4) m = f32x4.max(m, v128.load(at(row, c)));
    m = f32x4.max(m, v128.bitselect(v128.load(at(row, last)), hidden, shown));
    const max = Mathf.max(Mathf.max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), Mathf.max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    const mv = f32x4.splat(max);
    let v = f32x4.splat(0);
    for (let c = 0; c < last; c += 4) {
      const e = nabla_exp4(f32x4.sub(v128.load(at(row, c)), mv));
      v128.store(at(dst, c), e);
      v = f32x4.add(v, e);
    }
    const e = v128.and(nabla_exp4(f32x4.sub(v128.load(at(row, last)), mv)), shown);
    v128.store(at(dst, last), e);
    v = f32x4.add(v, e);
    const total = f32x4.splat(f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
    for (let c = 0; c < end; c += 4) v128.store(at(dst, c), f32x4.div(v128.load(at(dst, c)), total));
    for (let c = end; c < C; c += 4) v128.store(at(dst, c), f32x4.splat(0));
  }
}

/** softmax_rows where C is not a multiple of 4: full vectors, then the visible keys past them one at a time. */
function softmax_rows_scalar_tail(out: usize, x: usize, R: i32, C: i32, Q: i32): void {
  for (let r = 0; r < R; r++) {
    const row = at(x, r * C);
    const dst = at(out, r * C);
    const seen = Q > 0 ? min(C, (r % Q) + 1) : C;
    let max = load<f32>(row);
    for (let c = 1; c < seen; c++) max = Mathf.max(max, load<f32>(at(row, c)));
    const m = f32x4.splat(max);
    let v = f32x4.splat(0);
    let s: f32 = 0;
    let c = 0;
    for (; c + 4 <= seen; c += 4) {
      const e = nabla_exp4(f32x4.sub(v128.load(at(row, c)), m));
      v128.store(at(dst, c), e);
      v = f32x4.add(v, e);
    }
    for (; c < seen; c++) {
      const e = Mathf.exp(load<f32>(at(row, c)) - max);
      store<f32>(at(dst, c), e);
      s += e;
    }
    s += f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
    const total = f32x4.splat(s);
    c = 0;
    for (; c + 4 <= seen; c += 4) v128.store(at(dst, c), f32x4.div(v128.load(at(dst, c)), total));
    for (; c < seen; c++) store<f32>(at(dst, c), load<f32>(at(dst, c)) / s);
    for (c = seen; c < C; c++) store<f32>(at(dst, c), 0);
  }
}

/**
 * softmax's gradient over each row of [R, C]: out = y ⊙ (g − Σ g⊙y), y the softmax and g its
 * cotangent (compiler/ops/softmax.ts). One pass per row for the dot product, one for the result.
 */
export function softmax_grad_rows(out: usize, y: usize, g: usize, R: i32, C: i32): void {
  for (let r = 0; r < R; r++) {
    const yr = at(y, r * C);
    const gr = at(g, r * C);
    const dst = at(out, r * C);
    let v = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) v = madd(v128.load(at(gr, c)), v128.load(at(yr, c)), v);
    let dot = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
    for (; c < C; c++) dot += load<f32>(at(gr, c)) * load<f32>(at(yr, c));
    const d = f32x4.splat(dot);
    c = 0;
    for (; c + 4 <= C; c += 4) v128.store(at(dst, c), f32x4.mul(v128.load(at(yr, c)), f32x4.sub(v128.load(at(gr, c)), d)));
    for (; c < C; c++) store<f32>(at(dst, c), load<f32>(at(yr, c)) * (load<f32>(at(gr, c)) - dot));
  }
}
