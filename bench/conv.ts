// GFLOPS of each conv layer's three GEMMs in the image workloads (W4, W5), through the very code
// codegen emits for them, next to the in-process f32x4 peak probe: forward patches·Wᵀ
// [N,OH,OW,C·K·K]·[O,C·K·K]ᵀ, input gradient dY·W (whose col2im follows), weight gradient dYᵀ·patches
// contracting over [N,OH,OW]. The first layer has no input gradient. im2col/col2im are not included.
import type { SimdFlavour } from '../compiler/codegen/asc.ts';
import { BATCH } from '../compiler/ir/types.ts';
import { matmulCall, probeName, productLines, timeProducts, type TimedProduct } from './gemm.ts';
import { convFlops, convGeometry, WORKLOADS } from './workloads.ts';

export async function benchConvGemm(budgetMs: number, simd: SimdFlavour, names: readonly string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const w of WORKLOADS.filter((x) => x.image && names.includes(x.name))) {
    const products: TimedProduct[] = convGeometry(w).convs.flatMap((c) => {
      const [oh, ow, out] = c.output;
      const patch = c.input[2] * c.kernel * c.kernel;
      const flops = (n: number): number => convFlops(c, n);
      const name = `conv ${c.index + 1} (${c.input.join('×')} → ${c.output.join('×')}, ${c.kernel}×${c.kernel})`;
      const all: TimedProduct[] = [
        { label: `${name} forward`, code: matmulCall([[BATCH, oh, ow, patch], [out, patch]], { transB: true }), flops },
        { label: `${name} input grad`, code: matmulCall([[BATCH, oh, ow, out], [out, patch]], {}), flops },
        { label: `${name} weight grad`, code: matmulCall([[BATCH, oh, ow, out], [BATCH, oh, ow, patch]], { transA: true }), flops },
      ];
      return c.index === 0 ? [all[0]!, all[2]!] : all;
    });
    const { rows, peak } = await timeProducts(products, [w.batch], budgetMs, simd);
    lines.push(...productLines(`${w.name} conv GEMMs, ${simd} SIMD: GFLOPS (median) and % of the ${probeName(simd)} peak probe run alternately (median ${peak.toFixed(1)} GFLOPS)`, rows), '');
  }
  return lines;
}
