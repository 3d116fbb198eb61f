// The multiply-add of the GEMM micro-kernels: c + a·b on f32x4. The baseline build compiles
// this file; the relaxed-SIMD build is served the same function with f32x4.relaxed_madd
// (compiler/codegen/asc.ts), so one generated source gives both builds.

@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(f32x4.mul(a, b), c);
}
