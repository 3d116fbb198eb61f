// Experiment 2: a deep MLP (10 hidden layers of 64 units, softmax over 4 classes) and how its
// initialisation decides whether gradients reach the first layer. Per-layer gradient norms
// ‖∂loss/∂W_l‖ at initialisation and after one epoch of SGD, for sigmoid with N(0, 1) weights
// (the classic vanishing case), sigmoid with Glorot, tanh with Glorot and ReLU with He — and
// ReLU with N(0, 1), which explodes until the non-finite guard stops training — and ELU and SELU
// with LeCun's normal initialisation. Batch norm and gradient clipping are experiment 3
// (deep-fixes.ts).
//
//   node --import assemblyscript/asc --import tsx examples/gradients/deep-init.ts
//
// prints the table and writes examples/gradients/deep-init.svg.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { compile } from '../../compiler/compile.ts';
import { lineChart, type Series } from '../../compiler/report/svg.ts';
import { Rng } from '../../runtime/prng.ts';
import { NonFiniteError } from '../../runtime/guard.ts';

export const DEPTH = 10;
export const WIDTH = 64;
export const FEATURES = 16;
export const CLASSES = 4;
export const ROWS = 1024;
export const BATCH = 64;

export interface InitCase {
  readonly name: string;
  readonly activation: 'sigmoid' | 'tanh' | 'relu' | 'elu' | 'selu';
  /** A spec initializer, or 'normal' for N(0, 1) weights set through setWeights. */
  readonly init: 'glorot_uniform' | 'he_normal' | 'lecun_normal' | 'normal';
}

export const CASES: readonly InitCase[] = [
  { name: 'sigmoid, N(0, 1)', activation: 'sigmoid', init: 'normal' },
  { name: 'sigmoid, Glorot', activation: 'sigmoid', init: 'glorot_uniform' },
  { name: 'tanh, Glorot', activation: 'tanh', init: 'glorot_uniform' },
  { name: 'relu, He', activation: 'relu', init: 'he_normal' },
  { name: 'relu, N(0, 1)', activation: 'relu', init: 'normal' },
  { name: 'elu, LeCun', activation: 'elu', init: 'lecun_normal' },
  { name: 'selu, LeCun', activation: 'selu', init: 'lecun_normal' },
];

export function deepSpec(c: InitCase, depth = DEPTH): unknown {
  const kernelInitializer = c.init === 'normal' ? 'glorot_uniform' : c.init;
  return {
    name: 'deep',
    input: { shape: [FEATURES] },
    layers: [
      ...Array.from({ length: depth }, (_, k) => ({ type: 'dense', name: `h${k + 1}`, units: WIDTH, activation: c.activation, kernelInitializer })),
      { type: 'dense', name: 'out', units: CLASSES, activation: 'softmax', kernelInitializer },
    ],
    loss: { type: 'sparse_categorical_crossentropy' },
    optimizer: { type: 'sgd', learningRate: 0.1 },
    batchSize: BATCH,
    seed: 1,
  };
}

/** Gaussian features; the class is the argmax of a fixed random linear map of them (learnable). */
export function syntheticData(seed = 5): { x: Float64Array; y: Float64Array } {
  const rng = new Rng(seed, 77);
  const map = Array.from({ length: FEATURES * CLASSES }, () => rng.normal());
  const x = Float64Array.from({ length: ROWS * FEATURES }, () => Math.fround(rng.normal()));
  const y = Float64Array.from({ length: ROWS }, (_, r) => {
    const scores = Array.from({ length: CLASSES }, (_, c) => x.subarray(r * FEATURES, (r + 1) * FEATURES).reduce((s, v, f) => s + v * map[f * CLASSES + c]!, 0));
    return scores.indexOf(Math.max(...scores));
  });
  return { x, y };
}

export interface InitResult {
  readonly name: string;
  /** ‖∂loss/∂W_l‖ for l = 1 … DEPTH + 1 (the output layer last), on the first batch. */
  readonly atInit: readonly number[];
  /** Empty when the epoch stopped on a non-finite value. */
  readonly afterEpoch: readonly number[];
  readonly lossAtInit: number;
  readonly lossAfterEpoch: number;
  /** The non-finite guard's message, when it stopped the epoch. */
  readonly stopped?: string;
}

export async function runCase(c: InitCase, depth = DEPTH): Promise<InitResult> {
  const trainer = await compile(deepSpec(c, depth));
  if (c.init === 'normal') {
    const rng = new Rng(11, 3);
    const weights = trainer.getWeights();
    for (const [name, t] of Object.entries(weights)) if (name.endsWith('.weight')) t.data.set(t.data.map(() => rng.normal()));
    trainer.setWeights(weights);
  }
  const data = syntheticData();
  const batch = { x: { shape: [BATCH, FEATURES], data: data.x.subarray(0, BATCH * FEATURES) }, y: data.y.subarray(0, BATCH) };
  const layers = [...Array.from({ length: depth }, (_, k) => `h${k + 1}`), 'out'];
  const norms = (): { loss: number; norms: number[] } => {
    const { loss, grads } = trainer.gradients(batch.x, batch.y);
    return { loss, norms: layers.map((l) => Math.hypot(...grads[`${l}.weight`]!.data)) };
  };
  const before = norms();
  try {
    trainer.fit({ x: { shape: [ROWS, FEATURES], data: data.x }, y: data.y }, { epochs: 1 });
  } catch (err) {
    if (!(err instanceof NonFiniteError)) throw err;
    return { name: c.name, atInit: before.norms, afterEpoch: [], lossAtInit: before.loss, lossAfterEpoch: NaN, stopped: err.message };
  }
  const after = norms();
  return { name: c.name, atInit: before.norms, afterEpoch: after.norms, lossAtInit: before.loss, lossAfterEpoch: after.loss };
}

/** ‖∇W₁‖ / ‖∇W_out‖: how much of the gradient reaches the first layer. */
export const firstToLast = (norms: readonly number[]): number => norms[0]! / norms[norms.length - 1]!;

async function main(): Promise<void> {
  const data = syntheticData();
  console.log(`deep MLP ${FEATURES}-${Array(DEPTH).fill(WIDTH).join('-')}-${CLASSES}, softmax cross-entropy, SGD lr 0.1, batch ${BATCH}, ${ROWS} rows (${[0, 1, 2, 3].map((c) => data.y.filter((v) => v === c).length).join('/')} per class)`);
  console.log('per-layer gradient norm ‖∂loss/∂W_l‖ on the first batch, at initialisation and after one epoch (compiled, float32)\n');
  const results: InitResult[] = [];
  for (const c of CASES) results.push(await runCase(c));
  const head = ['layer', ...results.map((r) => r.name)];
  const cell = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? 'stopped' : v.toExponential(2));
  for (const [label, key] of [['at initialisation', 'atInit'], ['after one epoch', 'afterEpoch']] as const) {
    console.log(label);
    console.log(head.map((h, i) => (i === 0 ? h.padEnd(8) : h.padStart(18))).join(''));
    for (let l = 0; l < DEPTH + 1; l++) {
      console.log([l === DEPTH ? 'out' : `h${l + 1}`, ...results.map((r) => cell(r[key][l]!))].map((h, i) => (i === 0 ? h.padEnd(8) : h.padStart(18))).join(''));
    }
    console.log(['h1/out', ...results.map((r) => cell(r[key].length ? firstToLast(r[key]) : undefined))].map((h, i) => (i === 0 ? h.padEnd(8) : h.padStart(18))).join(''));
    console.log('');
  }
  const lossText = (v: number): string => (Number.isNaN(v) ? 'stopped' : v < 1e3 ? v.toFixed(3) : v.toExponential(1));
  console.log(['loss', ...results.map((r) => `${lossText(r.lossAtInit)} → ${lossText(r.lossAfterEpoch)}`)].map((h, i) => (i === 0 ? h.padEnd(8) : h.padStart(18))).join(''));
  for (const r of results) if (r.stopped) console.log(`\n${r.name}: ${r.stopped}`);

  const series: Series[] = results.flatMap((r, k) => [
    { name: `${r.name}, init`, points: r.atInit.map((v, l) => [l + 1, v] as const), colour: k },
    { name: `${r.name}, 1 epoch`, points: r.afterEpoch.map((v, l) => [l + 1, v] as const), dashed: true, colour: k },
  ]);
  const svg = lineChart({
    title: `Gradient norm per layer, ${DEPTH} × ${WIDTH} MLP (layer ${DEPTH + 1} = output)`,
    xLabel: 'layer',
    yLabel: '‖∂loss/∂W‖',
    series,
    logY: true,
    width: 880,
    height: 400,
    legendWidth: 210,
  });
  const path = new URL('deep-init.svg', import.meta.url);
  writeFileSync(path, svg);
  console.log(`\nwrote ${path.pathname}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
