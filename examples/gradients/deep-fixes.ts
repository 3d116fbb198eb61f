// Experiment 3: three fixes for the deep MLP of experiment 2 (10 hidden layers of 64 units).
//
//   A. Batch normalization against vanishing gradients: sigmoid with Glorot weights, where the
//      first layer gets about 1e-6 of the output layer's gradient, against the same network with
//      dense (no bias) → batch_normalization → sigmoid in every hidden layer.
//   B. Gradient clipping against exploding gradients: relu with He weights trained by SGD at
//      learning rate 1, which blows up within a few steps (the non-finite guard stops it), against
//      the same run with clipNorm 1 (clipping by global norm, compiled into the step).
//   C. Residual connections against vanishing gradients: the sigmoid + Glorot network with an
//      identity skip around every hidden layer after the first, h_k = h_(k−1) + σ(W_k h_(k−1) + b_k)
//      (h1 maps 16 features to 64 units, so it has no identity to add), built with the functional
//      API's `add`.
//
//   node --import assemblyscript/asc --import tsx examples/gradients/deep-fixes.ts
//
// prints the tables and writes examples/gradients/deep-fixes.svg.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { compile } from '../../compiler/compile.ts';
import { add, dense, input, losses, model, optimizers } from '../../compiler/index.ts';
import type { SymbolicTensor } from '../../compiler/model/functional.ts';
import { lineChart, type Series } from '../../compiler/report/svg.ts';
import { NonFiniteError } from '../../runtime/guard.ts';
import type { Diagnostics } from '../../runtime/diagnostics.ts';
import { BATCH, CLASSES, DEPTH, FEATURES, firstToLast, ROWS, syntheticData, WIDTH } from './deep-init.ts';

const LAYERS = [...Array.from({ length: DEPTH }, (_, k) => `h${k + 1}`), 'out'];

export interface DeepOptions {
  readonly activation: 'sigmoid' | 'relu';
  readonly init: 'glorot_uniform' | 'he_normal';
  readonly batchNorm: boolean;
  readonly learningRate: number;
  readonly clipNorm?: number;
}

export function deepSpec(o: DeepOptions): unknown {
  const hidden = Array.from({ length: DEPTH }, (_, k) =>
    o.batchNorm
      ? [
          // The bias is redundant before batch norm (its β plays that part).
          { type: 'dense', name: `h${k + 1}`, units: WIDTH, useBias: false, kernelInitializer: o.init },
          { type: 'batch_normalization', name: `bn${k + 1}` },
          { type: 'activation', name: `act${k + 1}`, activation: o.activation },
        ]
      : [{ type: 'dense', name: `h${k + 1}`, units: WIDTH, activation: o.activation, kernelInitializer: o.init }],
  ).flat();
  return {
    name: 'deep',
    input: { shape: [FEATURES] },
    layers: [...hidden, { type: 'dense', name: 'out', units: CLASSES, activation: 'softmax', kernelInitializer: o.init }],
    loss: { type: 'sparse_categorical_crossentropy' },
    optimizer: { type: 'sgd', learningRate: o.learningRate, ...(o.clipNorm ? { clipNorm: o.clipNorm } : {}) },
    batchSize: BATCH,
    seed: 1,
  };
}

/**
 * C: the network of `deepSpec` (sigmoid, Glorot, SGD lr 0.1; same layer names, so the same
 * initial weights) with h_k = h_(k−1) + σ(dense_k(h_(k−1))) for k = 2 … DEPTH. Backpropagation
 * through x + f(x) multiplies by I + ∂f/∂x instead of ∂f/∂x, so the identity path carries the
 * output layer's gradient to h1 undiminished however small σ′·W gets.
 */
export function residualSpec(): unknown {
  const x = input([FEATURES], { name: 'x' });
  const layer = (k: number): ReturnType<typeof dense> => dense(WIDTH, { name: `h${k}`, activation: 'sigmoid', kernelInitializer: 'glorot_uniform' });
  let h: SymbolicTensor = layer(1).apply(x);
  for (let k = 2; k <= DEPTH; k++) h = add([h, layer(k).apply(h)], { name: `skip${k}` });
  const out = dense(CLASSES, { name: 'out', activation: 'softmax', kernelInitializer: 'glorot_uniform' }).apply(h);
  return model({
    name: 'deep_residual',
    inputs: [x],
    outputs: [{ tensor: out, loss: losses.sparseCategoricalCrossentropy() }],
    optimizer: optimizers.sgd({ learningRate: 0.1 }),
    batchSize: BATCH,
    seed: 1,
  });
}

const data = syntheticData();
const firstBatch = { x: { shape: [BATCH, FEATURES], data: data.x.subarray(0, BATCH * FEATURES) }, y: data.y.subarray(0, BATCH) };

export interface FixResult {
  /** Which network: plain sigmoid, with batch norm, or with residual connections. */
  readonly fix: 'none' | 'batch norm' | 'residual';
  /** ‖∂loss/∂W_l‖ on the first batch at initialisation, l = 1 … DEPTH + 1 (output last). */
  readonly atInit: readonly number[];
  readonly lossAtInit: number;
  /** Mean training loss of the first and of the third epoch. */
  readonly epochLosses: readonly number[];
}

/** A and C: sigmoid + Glorot, plain or with a fix. With batch norm, gradients of the training pass (batch statistics). */
export async function sigmoidCase(fix: FixResult['fix'], epochs = 3): Promise<FixResult> {
  const spec = fix === 'residual' ? residualSpec() : deepSpec({ activation: 'sigmoid', init: 'glorot_uniform', batchNorm: fix === 'batch norm', learningRate: 0.1 });
  const trainer = await compile(spec);
  const { loss, grads } = trainer.gradients(firstBatch.x, firstBatch.y);
  const atInit = LAYERS.map((l) => Math.hypot(...grads[`${l}.weight`]!.data));
  // epochs = 0: the gradients at initialisation only (the residual test's plain baseline, in a second).
  const history = epochs > 0 ? trainer.fit({ x: { shape: [ROWS, FEATURES], data: data.x }, y: data.y }, { epochs }) : { epochs: [] };
  return { fix, atInit, lossAtInit: loss, epochLosses: history.epochs.map((e) => e.loss) };
}

export interface ClippingResult {
  readonly clipNorm?: number;
  /** Global gradient norm ‖g‖ of every step taken (before clipping), from the compiled telemetry. */
  readonly gradNorms: readonly number[];
  readonly losses: readonly number[];
  /** The non-finite guard's message, if it stopped training. */
  readonly stopped?: string;
  readonly stoppedAt?: number;
}

const globalNorm = (d: Diagnostics): number => Math.hypot(...Object.values(d.params).map((p) => p.gradNorm));

/** B: relu + He, SGD lr 1, with or without clipping by global norm; `epochs` over the data, step by step. */
export async function clippingCase(clipNorm: number | undefined, epochs = 3): Promise<ClippingResult> {
  const trainer = await compile(deepSpec({ activation: 'relu', init: 'he_normal', batchNorm: false, learningRate: 1, ...(clipNorm ? { clipNorm } : {}) }), {
    diagnostics: true,
  });
  const gradNorms: number[] = [];
  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let start = 0; start < ROWS; start += BATCH) {
      const x = { shape: [BATCH, FEATURES], data: data.x.subarray(start * FEATURES, (start + BATCH) * FEATURES) };
      try {
        losses.push(trainer.trainStep(x, data.y.subarray(start, start + BATCH)));
      } catch (err) {
        if (!(err instanceof NonFiniteError)) throw err;
        return { gradNorms, losses, stopped: err.message, stoppedAt: err.step, ...(clipNorm ? { clipNorm } : {}) };
      }
      gradNorms.push(globalNorm(trainer.lastDiagnostics()!));
    }
  }
  return { gradNorms, losses, ...(clipNorm ? { clipNorm } : {}) };
}

const SERIES_NAMES = { none: 'sigmoid', 'batch norm': 'sigmoid + batch norm', residual: 'sigmoid + skips' } as const;
const row = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(12) : c.padStart(16))).join('');
const sci = (v: number): string => v.toExponential(2);

async function main(): Promise<void> {
  console.log(`A. batch normalization and C. residual connections: ${FEATURES}-${DEPTH}×${WIDTH}-${CLASSES} sigmoid MLP, Glorot, SGD lr 0.1, batch ${BATCH}, ${ROWS} rows`);
  console.log('   per-layer gradient norm ‖∂loss/∂W_l‖ on the first batch at initialisation (compiled, float32)\n');
  const bn = [await sigmoidCase('none'), await sigmoidCase('batch norm'), await sigmoidCase('residual')];
  console.log(row(['layer', 'sigmoid', 'sigmoid + BN', 'sigmoid + skips']));
  LAYERS.forEach((l, k) => console.log(row([l, ...bn.map((r) => sci(r.atInit[k]!))])));
  console.log(row(['h1/out', ...bn.map((r) => sci(firstToLast(r.atInit)))]));
  console.log(row(['loss init', ...bn.map((r) => r.lossAtInit.toFixed(3))]));
  bn[0]!.epochLosses.forEach((_, e) => console.log(row([`epoch ${e + 1}`, ...bn.map((r) => r.epochLosses[e]!.toFixed(3))])));

  console.log(`\nB. gradient clipping: ${DEPTH}×${WIDTH} relu MLP, He, SGD lr 1, 3 epochs of ${ROWS / BATCH} steps`);
  const clip = [await clippingCase(undefined), await clippingCase(1)];
  for (const r of clip) {
    const name = r.clipNorm ? `clipNorm ${r.clipNorm}` : 'no clipping';
    const max = Math.max(...r.gradNorms);
    const tail = r.stopped ? `stopped at step ${r.stoppedAt}: ${r.stopped.slice(0, r.stopped.indexOf(';'))}` : `loss ${r.losses[0]!.toFixed(3)} → ${r.losses.at(-1)!.toFixed(3)}`;
    console.log(`  ${name.padEnd(12)} ${r.gradNorms.length} finite steps, largest ‖g‖ ${sci(max)}; ${tail}`);
  }

  const series: Series[] = [
    ...bn.map((r, k): Series => ({ name: SERIES_NAMES[r.fix], points: r.atInit.map((v, l) => [l + 1, v] as const), colour: k })),
  ];
  const clipSeries: Series[] = clip.map((r, k) => ({
    name: r.clipNorm ? `clipNorm ${r.clipNorm}` : 'no clipping',
    points: r.gradNorms.map((v, s) => [s + 1, v] as const),
    colour: k + 3,
  }));
  const left = lineChart({ title: 'A, C. Gradient norm per layer at init (layer 11 = output)', xLabel: 'layer', yLabel: '‖∂loss/∂W‖', series, logY: true, width: 520, height: 360, legendWidth: 150 });
  const right = lineChart({ title: 'B. Global gradient norm per step, relu + He, SGD lr 1', xLabel: 'step', yLabel: '‖g‖ before clipping', series: clipSeries, logY: true, width: 520, height: 360, legendWidth: 110 });
  // Two charts side by side in one SVG document.
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1040" height="360" viewBox="0 0 1040 360">\n<g>${left}</g>\n<g transform="translate(520,0)">${right}</g>\n</svg>\n`;
  const path = new URL('deep-fixes.svg', import.meta.url);
  writeFileSync(path, svg);
  console.log(`\nwrote ${path.pathname}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
