// Fusion and simplification change how a step runs, never what it computes: on random models
// the fused program gives the unfused program's loss, gradients and updated weights.
import { describe, expect, it } from 'vitest';
import { compile, compileToWasm } from '../compiler/compile.ts';
import { relativeDifference } from '../compiler/gradcheck/numerical.ts';
import { printProgram } from '../compiler/passes/fuse.ts';
import { Rng } from '../runtime/prng.ts';
import { randomBits, randomClasses, randomMatrix } from './support/data.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';

const activations = ['linear', 'sigmoid', 'tanh', 'relu', 'gelu'] as const;
const losses = ['mse', 'binary_crossentropy', 'sparse_categorical_crossentropy'] as const;

function randomModel(seed: number) {
  const rng = new Rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[rng.below(xs.length)]!;
  const loss = pick(losses);
  const outputs = loss === 'sparse_categorical_crossentropy' ? 2 + rng.below(6) : 1 + rng.below(4);
  const hidden = Array.from({ length: 1 + rng.below(3) }, () => ({ type: 'dense', units: 1 + rng.below(20), activation: pick(activations), useBias: rng.below(5) > 0 }));
  const last = loss === 'mse' ? pick(activations) : loss === 'binary_crossentropy' ? 'sigmoid' : 'softmax';
  return {
    spec: {
      input: { shape: [1 + rng.below(12)] },
      layers: [...hidden, { type: 'dense', units: outputs, activation: last }],
      loss: { type: loss },
      optimizer: { type: 'sgd', learningRate: 0.05 },
      batchSize: 1 + rng.below(16),
      seed,
    },
    labels: (rows: number) =>
      loss === 'mse' ? randomMatrix(rows, outputs, seed + 1) : loss === 'binary_crossentropy' ? randomBits(rows, outputs, seed + 1) : randomClasses(rows, outputs, seed + 1),
  };
}

describe('fusion', () => {
  it.each(Array.from({ length: 8 }, (_, k) => 1000 + k))('fused and unfused programs agree on random model %i', async (seed) => {
    const { spec, labels } = randomModel(seed);
    const fused = await compile(spec);
    const plain = await compile(spec, { fuse: false });
    const n = spec.batchSize;
    const x = randomMatrix(n, spec.input.shape[0]!, seed + 2, 1.5);
    const y = labels(n);
    const a = fused.gradients(x, y);
    const b = plain.gradients(x, y);
    expect(Math.abs(a.loss - b.loss) / Math.max(1, Math.abs(b.loss))).toBeLessThan(1e-6);
    for (const [name, g] of Object.entries(b.grads)) expect(relativeDifference(a.grads[name]!.data, g.data), name).toBeLessThan(1e-6);
    fused.trainStep(x, y);
    plain.trainStep(x, y);
    const after = plain.getWeights();
    for (const [name, w] of Object.entries(fused.getWeights())) expect(relativeDifference(w.data, after[name]!.data), name).toBeLessThan(1e-6);
  });

  it('prints which kernels run and which ops each holds', async () => {
    const { program } = await compileToWasm({
      input: { shape: [8] },
      layers: [{ type: 'dense', name: 'hidden', units: 16, activation: 'relu' }, { type: 'dense', name: 'out', units: 3, activation: 'softmax' }],
      loss: { type: 'sparse_categorical_crossentropy' },
      batchSize: 4,
    });
    const text = printProgram(program).split('\n');
    // Forward: bias and relu are the GEMM's epilogue; backward: relu's mask × upstream gradient
    // in one loop, which also sums the result over the batch into the bias gradient; the SGD
    // update w − η·g in one pass per parameter.
    expect(text.find((l) => l.includes('# hidden'))).toMatch(/^gemm +%\d+ \[N,16\] .*matmul %\d+ → add %\d+ → relu %\d+ \[epilogue: bias \+ relu\]/);
    expect(text.some((l) => /^elementwise .*step %\d+ → mul %\d+ \[\+ column sums %\d+ \[16\] grad\(hidden\)\] +# grad\(hidden\)$/.test(l))).toBe(true);
    // Softmax cross-entropy forward: the probabilities and the label's log-probability in one
    // pass over the logits, the log-softmax itself never stored.
    expect(text.some((l) => /^node .*log_softmax %\d+ → exp %\d+ → gather_label %\d+ \[one pass; writes %\d+, %\d+, not %\d+\]/.test(l))).toBe(true);
    expect(text.some((l) => /^node .* (exp|gather_label) %\d+ +#/.test(l))).toBe(false);
    // The bias gradient has no kernel of its own any more.
    expect(text.some((l) => /^node .* sum %\d+ +# grad\(hidden\)$/.test(l))).toBe(false);
    expect(text.filter((l) => /^elementwise .*mul %\d+ → sub %\d+ +# update\(/.test(l))).toHaveLength(4);
  });

  // gelu's derivative reads x = X·Wᵀ + b. Over a width that is a multiple of 4 the GEMM stores
  // gelu′(x) beside gelu(x) (both from one e^(−x²/2)) and not x; over 10 units (a last group of 2
  // columns) it stores x as well as gelu(x). Batch 4 takes the direct dot products, batch 24 the
  // packed blocks (DIRECT_ROWS is 16). Compiled against the interpreter and numerical gradients.
  it.each([
    [4, 10],
    [24, 10],
    [4, 12],
    [24, 12],
  ])('applies gelu in the GEMM epilogue, with what gelu′ reads (batch %i, %i units)', async (batchSize, units) => {
    const spec = {
      input: { shape: [7] },
      layers: [{ type: 'dense', name: 'hidden', units, activation: 'gelu' }, { type: 'dense', name: 'out', units: 3, activation: 'softmax' }],
      loss: { type: 'sparse_categorical_crossentropy' },
      batchSize,
    };
    const text = printProgram((await compileToWasm(spec)).program).split('\n');
    const forward = text.find((l) => l.includes('# hidden'));
    if (units % 4 === 0) {
      const writes = new RegExp(`^gemm +%\\d+ \\[N,${units}\\] .*matmul %\\d+ → add %\\d+ → gelu (%\\d+) → gelu_derivative (%\\d+) \\[epilogue: bias \\+ gelu; writes (%\\d+)\\]`).exec(forward ?? '');
      expect(writes, forward).not.toBeNull();
      expect(writes![3]).toBe(writes![2]);
      // Backward: g·gelu′ in one loop reading the stored derivative (with the bias gradient's column sums).
      expect(text.some((l) => new RegExp(`^elementwise .*← \\(%\\d+, ${writes![2]}\\) +mul %\\d+ \\[\\+ column sums`).test(l)), text.join('\n')).toBe(true);
    } else {
      const kept = new RegExp(`^gemm +%\\d+ \\[N,${units}\\] .*matmul %\\d+ → add (%\\d+) → gelu %\\d+ \\[epilogue: bias \\+ gelu; keeps (%\\d+)\\]`).exec(forward ?? '');
      expect(kept, forward).not.toBeNull();
      expect(kept![2]).toBe(kept![1]);
      // Backward: g·gelu′(x) in one loop reading the kept x and gelu(x) (with the bias gradient's column sums).
      const gelu = /→ gelu (%\d+)/.exec(forward!)![1]!;
      expect(text.some((l) => new RegExp(`^elementwise .*← \\(${kept![1]}, ${gelu}, %\\d+\\) +gelu_derivative %\\d+ → mul %\\d+ \\[\\+ column sums`).test(l)), text.join('\n')).toBe(true);
    }
    expect(text.some((l) => /\b(erf|gelu|gelu_derivative) %\d+ +#/.test(l) && !l.startsWith('gemm') && !l.startsWith('elementwise')), text.join('\n')).toBe(false);
    await expectThreeWayAgreement(spec, randomMatrix(batchSize, 7, 40 + batchSize, 1.5), randomClasses(batchSize, 3, 41 + batchSize));
    await expectThreeWayAgreement(spec, randomMatrix(batchSize - 3, 7, 50 + batchSize, 1.5), randomClasses(batchSize - 3, 3, 51 + batchSize));
  });

  // x + (h·Wᵀ + b): the residual is added in the GEMM's epilogue, in either order of the add's
  // operands; after an activation it stays an add of its own. 10 units leave a last group of 2
  // columns; batch 4 takes the direct dot products, 24 the packed blocks.
  it.each([
    [4, ['x', 'proj']],
    [24, ['proj', 'x']],
  ] as const)('adds a residual in the GEMM epilogue (batch %i, add of %j)', async (batchSize, order) => {
    const spec = (activation: string) => ({
      inputs: [{ name: 'x', shape: [10] }],
      nodes: [
        { type: 'dense', name: 'proj', units: 10, activation, inputs: ['x'] },
        { type: 'add', name: 'sum', inputs: [...order] },
        { type: 'dense', name: 'out', units: 3, activation: 'softmax', inputs: ['sum'] },
      ],
      outputs: [{ node: 'out', loss: { type: 'sparse_categorical_crossentropy' } }],
      batchSize,
    });
    const text = printProgram((await compileToWasm(spec('linear'))).program).split('\n');
    expect(text.find((l) => l.includes('# sum')), text.join('\n')).toMatch(/^gemm +%\d+ \[N,10\] .*matmul %\d+ → add %\d+ → add %\d+ \[epilogue: bias \+ residual %\d+\] +# sum$/);
    expect(text.some((l) => /^node .* add %\d+ +# sum$/.test(l))).toBe(false);
    await expectThreeWayAgreement(spec('linear'), randomMatrix(batchSize, 10, 60 + batchSize, 1.5), randomClasses(batchSize, 3, 61 + batchSize));
    await expectThreeWayAgreement(spec('linear'), randomMatrix(batchSize - 3, 10, 62 + batchSize, 1.5), randomClasses(batchSize - 3, 3, 63 + batchSize));
    const activated = printProgram((await compileToWasm(spec('relu'))).program).split('\n');
    expect(activated.some((l) => /^node .* add %\d+ +# sum$/.test(l)), activated.join('\n')).toBe(true);
  });

  it('keeps the activation out of the GEMM where the value before it is read first (a loss from logits before the prediction)', async () => {
    const { program } = await compileToWasm({
      input: { shape: [5] },
      layers: [{ type: 'dense', name: 'out', units: 2 }],
      loss: { type: 'binary_crossentropy', fromLogits: true },
      batchSize: 4,
    });
    const text = printProgram(program).split('\n');
    expect(text.find((l) => l.includes('# out'))).toMatch(/^gemm .*matmul %\d+ → add %\d+ \[epilogue: bias\] +# out$/);
    expect(text.some((l) => l.includes('keeps'))).toBe(false);
  });
});
