// The patches of a convolution as GEMM rows (compiler/ops/im2col.ts): one row of C·KH·KW per
// output position, (c, kh, kw) order, zeros for padding; and the adjoint, which adds each patch
// entry back to its pixel. Images are [N,H,W,C] (a sequence is an image of height 1).

@inline
function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

// One walk over every (patch entry, pixel) pair serves both directions, so im2col and col2im
// cannot disagree about the layout. It is inlined with `gather` a constant, so each caller
// keeps only its own branch.
@inline
function walkPatches(images: usize, cols: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, gather: bool): void {
  let o = cols;
  for (let b = 0; b < N; b++) {
    const image = at(images, b * H * W * C);
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let c = 0; c < C; c++) {
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * SH - PT + kh * DH;
            const inRow = ih >= 0 && ih < H;
            const row = at(image, ih * W * C + c);
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * SW - PL + kw * DW;
              const inside = inRow && iw >= 0 && iw < W;
              if (gather) {
                store<f32>(o, inside ? load<f32>(at(row, iw * C)) : 0);
              } else if (inside) {
                const p = at(row, iw * C);
                store<f32>(p, load<f32>(p) + load<f32>(o));
              }
              o += 4;
            }
          }
        }
      }
    }
  }
}

export function im2col(out: usize, x: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32): void {
  walkPatches(x, out, N, H, W, C, OH, OW, KH, KW, SH, SW, PT, PL, DH, DW, true);
}

export function col2im(out: usize, cols: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32): void {
  memory.fill(out, 0, (<usize>N * <usize>H * <usize>W * <usize>C) << 2);
  walkPatches(out, cols, N, H, W, C, OH, OW, KH, KW, SH, SW, PT, PL, DH, DW, false);
}
