// The packed GEMM kernels against the float64 interpreter on shapes that exercise every path:
// full 4×8 blocks, the 2/1 row tails, panels narrower than 8 (packed and in place), a batch
// dimension that is the GEMM's K (weight gradient) — of one at batch 1, an outer product — and
// partial batches down to one row; the
// cache-blocked loops (K blocks with a short last block, row blocks with every row tail) and the
// direct X·Wᵀ of a few rows (column groups of 4, 3, 2, 1 and K not a multiple of 4); dYᵀ·X read
// in place over a long K, with SGD fused into it.
import { describe, expect, it } from 'vitest';
import { FUSED_UPDATE_MAX_BATCH } from '../compiler/codegen/fused_update.ts';
import { COLUMNS_MIN_K, DIRECT_ROWS, gemmBlocking } from '../compiler/codegen/gemm.ts';
import { compile, compileToWasm } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { relativeDifference } from '../compiler/gradcheck/numerical.ts';
import { expectStepsLikeInterpreter } from './support/compare.ts';
import { randomClasses, randomMatrix } from './support/data.ts';

const spec = {
  input: { shape: [19] },
  layers: [
    { type: 'dense', units: 29, activation: 'relu' },
    { type: 'dense', units: 16, activation: 'tanh' },
    { type: 'dense', units: 13, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  batchSize: 23,
  seed: 5,
};

/** Compiled against interpreted loss, predictions and every gradient on n rows of `spec`. */
async function expectAgreement(model: typeof spec, n: number): Promise<void> {
  const trainer = await compile(model);
  const interpreter = interpret(model);
  const inputs = model.input.shape[0]!;
  const classes = model.layers[model.layers.length - 1]!.units;
  interpreter.setWeights(trainer.getWeights());
  const x = randomMatrix(n, inputs, 40 + n, 1.2);
  const y = randomClasses(n, classes, 50 + n);
  const exact = interpreter.gradients(x, y);
  const compiled = trainer.gradients(x, y);
  expect(Math.abs(compiled.loss - exact.loss) / Math.abs(exact.loss)).toBeLessThan(1e-5);
  expect(relativeDifference(trainer.predict(x).data, interpreter.predict(x).data)).toBeLessThan(1e-5);
  for (const [name, g] of Object.entries(exact.grads)) {
    expect(relativeDifference(compiled.grads[name]!.data, g.data), name).toBeLessThan(1e-5);
  }
}

// The shapes follow the blocking: a first layer one input past a packed K block (so X·Wᵀ runs
// in two K blocks, the last one short, and in row blocks), and a batch past an in-place K block
// (so the weight gradient, whose K is the batch, runs in two K blocks). Widths K → 38 → 15 → 6
// give K ≡ 1, 2, 3 (mod 4) and column groups with 2, 3, 2 columns left over in the direct form.
const packedKc = gemmBlocking({ M: { expr: 'n' }, K: { expr: 'n' }, bLayout: { kind: 'packed', scratch: '0' } }).kc!;
const inPlaceKc = gemmBlocking({ M: { expr: 'n' }, K: { expr: 'n' }, bLayout: { kind: 'rows' } }).kc!;
const inputs = packedKc + 5;
const batch = inPlaceKc + 18;
const wide = {
  input: { shape: [inputs] },
  layers: [
    { type: 'dense', units: 38, activation: 'tanh' },
    { type: 'dense', units: 15, activation: 'relu' },
    { type: 'dense', units: 6, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  batchSize: batch,
  seed: 3,
};
const rowBlock = gemmBlocking({ M: { expr: 'n' }, K: { expr: String(inputs), value: inputs }, bLayout: { kind: 'packed', scratch: '0' } }).mc!;
/** The largest row count past one in-place K block whose last row block ends in `tail` rows past the 4s. */
const rowsEndingIn = (tail: number): number => {
  let n = batch;
  while ((n % rowBlock) % 4 !== tail) n--;
  return n;
};

describe('cache-blocked and direct GEMM', () => {
  it('the wide model reaches the blocked loops', () => {
    const forward = gemmBlocking({ M: { expr: 'n' }, K: { expr: String(inputs), value: inputs }, bLayout: { kind: 'packed', scratch: '0' } });
    expect(forward.kc).toBeLessThan(inputs);
    expect(forward.mc).toBeLessThan(rowsEndingIn(3));
    expect(inputs % 4).toBe(1);
    expect(gemmBlocking({ M: { expr: '38', value: 38 }, K: { expr: 'n' }, bLayout: { kind: 'rows' } }).kc).toBeLessThan(rowsEndingIn(3));
  });
  // The last row block ends in 1, 2 and 3 rows past the 4s; each count a weight-gradient K past
  // one block. Below DIRECT_ROWS, X·Wᵀ reads W in place.
  it.each([rowsEndingIn(1), rowsEndingIn(2), rowsEndingIn(3), DIRECT_ROWS, DIRECT_ROWS - 1, 2, 1])('gradients agree with the interpreter on %i rows', async (n) => {
    await expectAgreement(wide, n);
  });
});

describe('packed GEMM kernels', () => {
  it.each([23, 18, 11, 7, 1])('gradients agree with the interpreter on %i rows', async (n) => {
    await expectAgreement(spec, n);
  });
});

// A batch of at most 16 rows is a short K for the weight gradient: no K blocks (the batch's bound
// fits one), and row blocks outside the column panels, so C is written row after row.
describe('weight gradients over a short batch', () => {
  const short = { ...spec, batchSize: 9 };
  it('runs the weight gradient in one K block, row blocks outer', () => {
    expect(gemmBlocking({ M: { expr: '29', value: 29 }, K: { expr: 'n', bound: short.batchSize }, bLayout: { kind: 'rows' } })).toEqual({ order: 'rows' });
    expect(gemmBlocking({ M: { expr: '29', value: 29 }, K: { expr: 'n' }, bLayout: { kind: 'rows' } }).order).toBe('panels');
  });
  it.each([9, 6, 1])('gradients agree with the interpreter on %i rows', async (n) => {
    await expectAgreement(short, n);
  });
});

// Compiled for batch 1, the weight gradient's K (the batch) is one: an outer product of dY's row
// and X's row, with no k loop and nothing packed, each value of dY loaded once per row block; the
// plain step stores the SGD update w + (−η)·g from it as one multiply-add per vector.
describe('weight gradients at batch 1', () => {
  const single = { ...spec, batchSize: 1, optimizer: { type: 'sgd', learningRate: 0.1 } };
  it('packs nothing and runs no k loop', async () => {
    const { source } = await compileToWasm(single, { simd: 'baseline' });
    // The plain step's weight-gradient products, each with its layer's SGD update in the epilogue.
    const fused = [...source.matchAll(/^function fused\d+\(.*?^\}$/gms)].map((m) => m[0]);
    expect(fused).toHaveLength(3);
    for (const body of fused) {
      expect(body).not.toMatch(/pack_cols4\(|while \(/);
      expect(body).toMatch(/v128\.store\(cBase, madd\(descent, c\d_\d, v128\.load\(cBase, \d+\)\), \d+\);/);
    }
    expect(source).not.toMatch(/pack_cols4\(/);
  });
  it('gradients agree with the interpreter on 1 row', async () => {
    await expectAgreement(single, 1);
  });
  it('keeps the update expression where it is not plain SGD (L2 decay: w − η·(g + λ·w))', async () => {
    const { source } = await compileToWasm({ ...single, optimizer: { ...single.optimizer, l2: 0.01 } }, { simd: 'baseline' });
    const fused = [...source.matchAll(/^function fused\d+\(.*?^\}$/gms)].map((m) => m[0]);
    expect(fused).toHaveLength(3);
    for (const body of fused) {
      expect(body).not.toMatch(/pack_cols4\(|while \(|descent/);
      expect(body).toMatch(/v128\.store\(cBase, f32x4\.sub\(v128\.load\(cBase, \d+\)/);
    }
  });
  it.each([
    ['plain SGD', single],
    ['SGD with L2 decay', { ...single, optimizer: { ...single.optimizer, l2: 0.01 } }],
  ])('%s: the plain step updates the weights to the bits of the guarded step, and as the interpreter does', async (_, model) => {
    const { wasm, manifest } = await compileToWasm(model, { simd: 'baseline' });
    const guarded = await compile(model, { simd: 'baseline' });
    const interpreter = interpret(model);
    interpreter.setWeights(guarded.getWeights());
    const { instance } = await WebAssembly.instantiate(wasm, {});
    const bare = instance.exports as unknown as { memory: WebAssembly.Memory; init(seed: number): void; train_step(n: number): number };
    bare.init(manifest.seed);
    const view = (p: { offset: number; bytes: number }): Float32Array => new Float32Array(bare.memory.buffer, p.offset, p.bytes / 4);
    for (let step = 0; step < 3; step++) {
      const x = randomMatrix(1, spec.input.shape[0]!, 60 + step, 1.2);
      const y = randomClasses(1, 13, 70 + step);
      view(manifest.buffers.input).set(x.flat());
      new Int32Array(bare.memory.buffer, manifest.buffers.labels.offset, 1).set(y);
      expect(guarded.trainStep(x, y)).toBe(bare.train_step(1));
      interpreter.trainStep(x, y);
    }
    manifest.buffers.params.forEach((p) => expect(guarded.views.params[p.name], p.name).toEqual(view(p)));
    for (const [name, w] of Object.entries(interpreter.getWeights())) expect(relativeDifference(guarded.getWeights()[name]!.data, w.data), name).toBeLessThan(1e-5);
  });
});

// A dense layer per position at a small batch: the weight gradient's K is n × 16 positions, long
// enough (from COLUMNS_MIN_K) that dYᵀ·X reads dY in place, while the batch is small enough that
// train_step fuses SGD into that GEMM's epilogue (w − η·g stored over the weights). The
// step's weights against the interpreter's, full and partial batch.
describe('SGD fused into a weight gradient that reads dY in place', () => {
  const POSITIONS = 16;
  const perPosition = {
    input: { shape: [POSITIONS, 7] },
    layers: [
      { type: 'dense', name: 'hidden', units: 13, activation: 'tanh' },
      { type: 'dense', name: 'out', units: 3 },
    ],
    loss: { type: 'mse' },
    optimizer: { type: 'sgd', learningRate: 0.1 },
    batchSize: 9,
    seed: 5,
  };
  const sequences = (rows: number, width: number, seed: number): number[][][] =>
    randomMatrix(rows, POSITIONS * width, seed).map((flat) => Array.from({ length: POSITIONS }, (_, t) => flat.slice(t * width, (t + 1) * width)));
  it('the weight gradient runs in place and the update is fused into it', async () => {
    expect(perPosition.batchSize * POSITIONS).toBeGreaterThanOrEqual(COLUMNS_MIN_K);
    expect(perPosition.batchSize).toBeLessThanOrEqual(FUSED_UPDATE_MAX_BATCH);
    const { source } = await compileToWasm(perPosition, { simd: 'baseline' });
    expect(source).toMatch(/^function fused\d+\(/m);
    expect(source).not.toContain('pack_cols4(');
  });
  it('trains like the interpreter, full and partial batch', async () => {
    const trainer = await compile(perPosition, { simd: 'baseline' });
    const interpreter = interpret(perPosition);
    expectStepsLikeInterpreter(trainer, interpreter, [9, 8, 9].map((rows) => [sequences(rows, 7, 30 + rows), sequences(rows, 3, 40 + rows)] as const));
  });
});
