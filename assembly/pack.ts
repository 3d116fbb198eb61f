// Packing the forward GEMM's weight operand: W [N,K] (rows of K) → ⌈N/8⌉ panels of [K][8]
// (8 output columns side by side for each k), columns past N zero. Whole 8-column panels move
// as 4×4 blocks transposed in registers; a ragged last panel or K not a multiple of 4 goes
// element by element. W changes every step, so this runs every forward pass.

@inline
function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

export function pack_panels(dst: usize, w: usize, N: i32, K: i32): void {
  const panels = (N + 7) >> 3;
  for (let p = 0; p < panels; p++) {
    const base = dst + <usize>p * <usize>K * 32;
    const j0 = p << 3;
    if (j0 + 8 <= N && (K & 3) == 0) {
      for (let g = 0; g < 2; g++) {
        const src = at(w, (j0 + 4 * g) * K);
        const rowBytes = <usize>K << 2;
        for (let k = 0; k < K; k += 4) {
          const r0 = v128.load(at(src, k));
          const r1 = v128.load(at(src, k) + rowBytes);
          const r2 = v128.load(at(src, k) + 2 * rowBytes);
          const r3 = v128.load(at(src, k) + 3 * rowBytes);
          const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
          const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
          const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
          const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
          const out = at(base, k * 8 + 4 * g);
          v128.store(out, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
          v128.store(out, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 32);
          v128.store(out, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 64);
          v128.store(out, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 96);
        }
      }
    } else {
      for (let q = 0; q < 8; q++) {
        const j = j0 + q;
        for (let k = 0; k < K; k++) store<f32>(at(base, k * 8 + q), j < N ? load<f32>(at(w, j * K + k)) : 0);
      }
    }
  }
}

/**
 * The weight gradient's dY [K,M], read by columns, packed into ⌈M/4⌉ panels of [K][4]: each
 * 4-row block of the GEMM then reads 16 contiguous bytes per k instead of one cache line
 * each, so its A panel and its B panel fit in L1 together. A ragged last panel carries lanes
 * past M (in-bounds memory) that no stored row uses.
 */
export function pack_cols4(dst: usize, a: usize, K: i32, M: i32): void {
  const panels = (M + 3) >> 2;
  const panelBytes = <usize>K << 4;
  for (let k = 0; k < K; k++) {
    const row = at(a, k * M);
    const out = dst + (<usize>k << 4);
    for (let p = 0; p < panels; p++) v128.store(out + <usize>p * panelBytes, v128.load(at(row, p << 2)));
  }
}
