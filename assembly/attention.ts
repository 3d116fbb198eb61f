// Kernels of attention: products batched over leading axes, axis permutations (splitting and
// merging heads) and the row softmax with its optional causal mask (compiler/ops/batch_matmul.ts,
// transpose.ts, softmax.ts).
import { mm_nn, mm_nt, mm_tn, mm_tt } from './kernels';
import { nabla_exp4 } from './simd_math';

@inline
function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** C[t] = op(A[t]) · op(B[t]) for t < count; op(A) is [M, K], op(B) is [K, N]. */
export function batched_mm(c: usize, a: usize, b: usize, count: i32, M: i32, K: i32, N: i32, transA: i32, transB: i32): void {
  for (let t = 0; t < count; t++) {
    const ct = at(c, t * M * N);
    const at_ = at(a, t * M * K);
    const bt = at(b, t * K * N);
    if (transA) {
      if (transB) mm_tt(ct, at_, bt, M, K, N);
      else mm_tn(ct, at_, bt, M, K, N);
    } else if (transB) mm_nt(ct, at_, bt, M, K, N);
    else mm_nn(ct, at_, bt, M, K, N);
  }
}

/**
 * out[i0, i1, i2, i3] = x[i0·s0 + i1·s1 + i2·s2 + i3·s3]: the output in order, each output axis
 * reading the input axis of stride s (a permutation, padded to rank 4). A unit innermost stride
 * copies whole rows.
 */
export function permute4(out: usize, x: usize, d0: i32, d1: i32, d2: i32, d3: i32, s0: i32, s1: i32, s2: i32, s3: i32): void {
  let o = out;
  const rowBytes = <usize>d3 << 2;
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      for (let i2 = 0; i2 < d2; i2++) {
        const base = i0 * s0 + i1 * s1 + i2 * s2;
        if (s3 == 1) {
          memory.copy(o, at(x, base), rowBytes);
          o += rowBytes;
        } else {
          for (let i3 = 0; i3 < d3; i3++) {
            store<f32>(o, load<f32>(at(x, base + i3 * s3)));
            o += 4;
          }
        }
      }
    }
  }
}

/**
 * Softmax of each row of x[R, C]. With Q > 0 the rows are [.., Q queries, C keys] and row r (query
 * r mod Q) sees keys j ≤ r mod Q only: the others get 0. Q = 0: every key.
 */
export function softmax_rows(out: usize, x: usize, R: i32, C: i32, Q: i32): void {
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
