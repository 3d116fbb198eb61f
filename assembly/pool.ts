// The pooling kernels of compiler/ops/max_pool.ts and avg_pool.ts over channels-last [N, H, W, C]
// (a 1-D pooling is H = 1). Each window is clipped to the input (TensorFlow's 'same' padding never
// reads a padded cell); channels run four at a time, the tail one by one. Argmax ties go to the
// first maximum in scan order, as the interpreter's: a lane is taken by the first cell equal to the
// window's maximum, and later equal cells see it taken.

@inline
function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** The maximum of channels [ch, ch + 4) over the window's rows [y0, y1) and columns [x0, x1) of image `img`. */
@inline
function windowMax4(x: usize, img: i32, W: i32, C: i32, ch: i32, y0: i32, y1: i32, x0: i32, x1: i32): v128 {
  let m = v128.load(at(x, ((img + y0) * W + x0) * C + ch));
  for (let y = y0; y < y1; y++) {
    for (let xx = x0; xx < x1; xx++) m = f32x4.max(m, v128.load(at(x, ((img + y) * W + xx) * C + ch)));
  }
  return m;
}

/** The flat index (in elements) of channel `ch`'s first maximum in the window. */
@inline
function windowArgmax(x: usize, img: i32, W: i32, C: i32, ch: i32, y0: i32, y1: i32, x0: i32, x1: i32): i32 {
  let best = ((img + y0) * W + x0) * C + ch;
  let m = load<f32>(at(x, best));
  for (let y = y0; y < y1; y++) {
    for (let xx = x0; xx < x1; xx++) {
      const k = ((img + y) * W + xx) * C + ch;
      const v = load<f32>(at(x, k));
      if (v > m) {
        m = v;
        best = k;
      }
    }
  }
  return best;
}

// The window of output (i, j): rows [y0, y1) and columns [x0, x1) of the input, clipped.
@inline
function clip(start: i32, k: i32, size: i32): i64 {
  const lo = start < 0 ? 0 : start;
  const hi = start + k > size ? size : start + k;
  return (<i64>lo << 32) | <i64>(<u32>hi);
}

export function max_pool2d(out: usize, x: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32): void {
  for (let b = 0; b < N; b++) {
    const img = b * H;
    for (let i = 0; i < OH; i++) {
      const ys = clip(i * SH - PT, KH, H);
      const y0 = <i32>(ys >> 32), y1 = <i32>ys;
      for (let j = 0; j < OW; j++) {
        const xs = clip(j * SW - PL, KW, W);
        const x0 = <i32>(xs >> 32), x1 = <i32>xs;
        const o = ((b * OH + i) * OW + j) * C;
        let ch = 0;
        for (; ch + 4 <= C; ch += 4) v128.store(at(out, o + ch), windowMax4(x, img, W, C, ch, y0, y1, x0, x1));
        for (; ch < C; ch++) store<f32>(at(out, o + ch), load<f32>(at(x, windowArgmax(x, img, W, C, ch, y0, y1, x0, x1))));
      }
    }
  }
}

/** dx = 0, then each window's g added at its argmax (the vjp of max_pool2d). */
export function max_pool2d_scatter(dx: usize, x: usize, g: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32): void {
  memory.fill(dx, 0, (<usize>N * <usize>H * <usize>W * <usize>C) << 2);
  for (let b = 0; b < N; b++) {
    const img = b * H;
    for (let i = 0; i < OH; i++) {
      const ys = clip(i * SH - PT, KH, H);
      const y0 = <i32>(ys >> 32), y1 = <i32>ys;
      for (let j = 0; j < OW; j++) {
        const xs = clip(j * SW - PL, KW, W);
        const x0 = <i32>(xs >> 32), x1 = <i32>xs;
        const o = ((b * OH + i) * OW + j) * C;
        let ch = 0;
        for (; ch + 4 <= C; ch += 4) {
          const m = windowMax4(x, img, W, C, ch, y0, y1, x0, x1);
          const gv = v128.load(at(g, o + ch));
          let taken = i32x4.splat(0);
          for (let y = y0; y < y1; y++) {
            for (let xx = x0; xx < x1; xx++) {
              const k = ((img + y) * W + xx) * C + ch;
              const hit = v128.andnot(f32x4.eq(v128.load(at(x, k)), m), taken);
              v128.store(at(dx, k), f32x4.add(v128.load(at(dx, k)), v128.and(gv, hit)));
              taken = v128.or(taken, hit);
            }
          }
        }
        for (; ch < C; ch++) {
          const k = windowArgmax(x, img, W, C, ch, y0, y1, x0, x1);
          store<f32>(at(dx, k), load<f32>(at(dx, k)) + load<f32>(at(g, o + ch)));
        }
      }
    }
  }
}

/** out = h read at each window's argmax of x (the transpose of the scatter). */
export function max_pool2d_gather(out: usize, x: usize, h: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32): void {
  for (let b = 0; b < N; b++) {
    const img = b * H;
    for (let i = 0; i < OH; i++) {
      const ys = clip(i * SH - PT, KH, H);
      const y0 = <i32>(ys >> 32), y1 = <i32>ys;
      for (let j = 0; j < OW; j++) {
        const xs = clip(j * SW - PL, KW, W);
        const x0 = <i32>(xs >> 32), x1 = <i32>xs;
        const o = ((b * OH + i) * OW + j) * C;
        let ch = 0;
        for (; ch + 4 <= C; ch += 4) {
          const m = windowMax4(x, img, W, C, ch, y0, y1, x0, x1);
          let taken = i32x4.splat(0);
          let picked = i32x4.splat(0);
          for (let y = y0; y < y1; y++) {
            for (let xx = x0; xx < x1; xx++) {
              const k = ((img + y) * W + xx) * C + ch;
              const hit = v128.andnot(f32x4.eq(v128.load(at(x, k)), m), taken);
              picked = v128.or(picked, v128.and(v128.load(at(h, k)), hit));
              taken = v128.or(taken, hit);
            }
          }
          v128.store(at(out, o + ch), picked);
        }
        for (; ch < C; ch++) store<f32>(at(out, o + ch), load<f32>(at(h, windowArgmax(x, img, W, C, ch, y0, y1, x0, x1))));
      }
    }
  }
}

/** Each window's mean over its cells inside the input. */
export function avg_pool2d(out: usize, x: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32): void {
  for (let b = 0; b < N; b++) {
    const img = b * H;
    for (let i = 0; i < OH; i++) {
      const ys = clip(i * SH - PT, KH, H);
      const y0 = <i32>(ys >> 32), y1 = <i32>ys;
      for (let j = 0; j < OW; j++) {
        const xs = clip(j * SW - PL, KW, W);
        const x0 = <i32>(xs >> 32), x1 = <i32>xs;
        const share = <f32>1 / <f32>((y1 - y0) * (x1 - x0));
        const o = ((b * OH + i) * OW + j) * C;
        let ch = 0;
        for (; ch + 4 <= C; ch += 4) {
          let s = f32x4.splat(0);
          for (let y = y0; y < y1; y++) {
            for (let xx = x0; xx < x1; xx++) s = f32x4.add(s, v128.load(at(x, ((img + y) * W + xx) * C + ch)));
          }
          v128.store(at(out, o + ch), f32x4.mul(s, f32x4.splat(share)));
        }
        for (; ch < C; ch++) {
          let s: f32 = 0;
          for (let y = y0; y < y1; y++) {
            for (let xx = x0; xx < x1; xx++) s += load<f32>(at(x, ((img + y) * W + xx) * C + ch));
          }
          store<f32>(at(out, o + ch), s * share);
        }
      }
    }
  }
}

/** dx = 0, then each window's g/count added to each of its cells (the vjp of avg_pool2d). */
export function avg_pool2d_transpose(dx: usize, g: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32): void {
  memory.fill(dx, 0, (<usize>N * <usize>H * <usize>W * <usize>C) << 2);
  for (let b = 0; b < N; b++) {
    const img = b * H;
    for (let i = 0; i < OH; i++) {
      const ys = clip(i * SH - PT, KH, H);
      const y0 = <i32>(ys >> 32), y1 = <i32>ys;
      for (let j = 0; j < OW; j++) {
        const xs = clip(j * SW - PL, KW, W);
        const x0 = <i32>(xs >> 32), x1 = <i32>xs;
        const share = <f32>1 / <f32>((y1 - y0) * (x1 - x0));
        const o = ((b * OH + i) * OW + j) * C;
        let ch = 0;
        for (; ch + 4 <= C; ch += 4) {
          const v = f32x4.mul(v128.load(at(g, o + ch)), f32x4.splat(share));
          for (let y = y0; y < y1; y++) {
            for (let xx = x0; xx < x1; xx++) {
              const k = at(dx, ((img + y) * W + xx) * C + ch);
              v128.store(k, f32x4.add(v128.load(k), v));
            }
          }
        }
        for (; ch < C; ch++) {
          const v = load<f32>(at(g, o + ch)) * share;
          for (let y = y0; y < y1; y++) {
            for (let xx = x0; xx < x1; xx++) {
              const k = at(dx, ((img + y) * W + xx) * C + ch);
              store<f32>(k, load<f32>(k) + v);
            }
          }
        }
      }
    }
  }
}
