// Experiment 1: a deep linear network, 2 units per layer, every weight W = s·I, no biases.
// The output is s^L·x, so it explodes for s = 1.5 and vanishes for s = 0.5 as the depth L
// grows; the gradient of the first layer carries the same factor (here, with mse against 0,
// ‖∂loss/∂W₁‖ = 2·s^(2L−1) exactly for x = (1, 1)). Measured on the compiled float32 trainer.
//
//   node --import assemblyscript/asc --import tsx examples/gradients/deep-linear.ts
//
// prints the table and writes examples/gradients/deep-linear.svg.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { compile } from '../../compiler/compile.ts';
import { lineChart } from '../../compiler/report/svg.ts';

export interface DeepLinearRow {
  readonly scale: number;
  readonly depth: number;
  /** ‖ŷ‖ / ‖x‖, measured; expected s^L. */
  readonly output: number;
  /** ‖∂loss/∂W₁‖, measured; expected 2·s^(2L−1). */
  readonly firstGradient: number;
  /** ‖∂loss/∂W₁‖ / ‖∂loss/∂ŷ‖: the factor backpropagation applies on the way down, expected √2·s^(L−1). */
  readonly backwardGain: number;
}

export function deepLinearSpec(depth: number): unknown {
  return {
    name: `linear_${depth}`,
    input: { shape: [2] },
    layers: Array.from({ length: depth }, (_, k) => ({ type: 'dense', name: `l${k + 1}`, units: 2, useBias: false })),
    loss: { type: 'mse' },
    batchSize: 1,
  };
}

export async function deepLinear(scale: number, depth: number): Promise<DeepLinearRow> {
  const trainer = await compile(deepLinearSpec(depth));
  const identity = [
    [scale, 0],
    [0, scale],
  ];
  trainer.setWeights(Object.fromEntries(Array.from({ length: depth }, (_, k) => [`l${k + 1}.weight`, identity])));
  const x = [[1, 1]];
  const y = [[0, 0]];
  const { grads } = trainer.gradients(x, y);
  const out = trainer.predict(x).data;
  const norm = (v: ArrayLike<number>): number => Math.hypot(...Array.from(v));
  const firstGradient = norm(grads['l1.weight']!.data);
  // mse over 2 outputs: ∂loss/∂ŷ = (2/2)·(ŷ − y) = ŷ.
  return { scale, depth, output: norm(out) / Math.SQRT2, firstGradient, backwardGain: firstGradient / norm(out) };
}

export const expected = {
  output: (s: number, L: number): number => s ** L,
  firstGradient: (s: number, L: number): number => 2 * s ** (2 * L - 1),
  backwardGain: (s: number, L: number): number => Math.SQRT2 * s ** (L - 1),
};

async function main(): Promise<void> {
  const depths = [5, 10, 15, 20, 25, 30, 35, 40, 45, 50];
  const rows: DeepLinearRow[] = [];
  console.log('deep linear network, 2 units per layer, W = s·I, x = (1, 1), mse against 0 (compiled, float32)\n');
  console.log('   s    L   output ‖ŷ‖/‖x‖   s^L          rel. err   ‖∂loss/∂W₁‖   2·s^(2L−1)   rel. err');
  for (const scale of [1.5, 0.5]) {
    for (const depth of depths) {
      const r = await deepLinear(scale, depth);
      rows.push(r);
      const e1 = expected.output(scale, depth);
      const e2 = expected.firstGradient(scale, depth);
      const rel = (a: number, b: number): string => (Math.abs(a - b) / b).toExponential(1);
      console.log(
        `${scale.toFixed(1).padStart(4)} ${String(depth).padStart(4)}   ${r.output.toExponential(4).padEnd(15)} ${e1.toExponential(4).padEnd(12)} ${rel(r.output, e1).padEnd(10)} ${r.firstGradient.toExponential(4).padEnd(13)} ${e2.toExponential(4).padEnd(12)} ${rel(r.firstGradient, e2)}`,
      );
    }
  }
  const series = [1.5, 0.5].flatMap((s, k) => [
    { name: `‖ŷ‖/‖x‖, s = ${s}`, points: rows.filter((r) => r.scale === s).map((r) => [r.depth, r.output] as const), colour: k },
    { name: `‖∂L/∂W₁‖, s = ${s}`, points: rows.filter((r) => r.scale === s).map((r) => [r.depth, r.firstGradient] as const), dashed: true, colour: k },
  ]);
  const svg = lineChart({
    title: 'Deep linear network, W = s·I: explode (s = 1.5) or vanish (s = 0.5)',
    xLabel: 'depth L',
    yLabel: 'magnitude',
    series,
    logY: true,
    width: 780,
    legendWidth: 170,
  });
  const path = new URL('deep-linear.svg', import.meta.url);
  writeFileSync(path, svg);
  console.log(`\nwrote ${path.pathname}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
