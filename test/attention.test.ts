// Attention layers: multi_head_attention against attention written out by hand in float64 (outputs
// and gradients), three ways (causal and not, self- and cross-attention, full and partial batch),
// position_embedding and transformer_block three ways, training end to end, and the shape errors.
// The comparison with PyTorch's own modules is test/interop/torch-attention.test.ts.
import { describe, expect, it } from 'vitest';
import { compileToWasm } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { printProgram } from '../compiler/passes/fuse.ts';
import { relativeDifference } from '../compiler/gradcheck/numerical.ts';
import { dense, flatten, input, model, multiHeadAttention, positionEmbedding, sequential, transformerBlock } from '../compiler/model/builder.ts';
import { attentionReference, type AttentionDims } from './support/attention-reference.ts';
import { perturbed, randomMatrix } from './support/data.ts';
import { compiledOnce, expectThreeWayAgreement } from './support/three-way.ts';
import { specRefusal } from './support/refusal.ts';

const STEPS = 4;
const WIDTH = 6;

/** flatten(attention(x)), mse: the prediction is the layer's output itself. */
const selfAttention = (causal: boolean) => ({
  input: { shape: [STEPS, WIDTH] },
  layers: [{ type: 'multi_head_attention', name: 'mha', numHeads: 2, useCausalMask: causal }, { type: 'flatten' }],
  loss: { type: 'mse' },
  batchSize: 4,
});

/** Samples of [steps][features] from a flat random matrix. */
const sequences = (rows: number, steps: number, width: number, seed: number): number[][][] =>
  randomMatrix(rows, steps * width, seed).map((flat) => Array.from({ length: steps }, (_, t) => flat.slice(t * width, (t + 1) * width)));

describe('multi_head_attention against attention written out by hand (float64)', () => {
  for (const causal of [false, true]) {
    it(`gives its outputs and gradients${causal ? ', causal' : ''}, interpreted and compiled`, async () => {
      const spec = selfAttention(causal);
      const interpreter = interpret(spec);
      const weights = perturbed(interpreter.getWeights(), 5);
      interpreter.setWeights(weights);
      const trainer = await compiledOnce(spec);
      trainer.setWeights(weights);
      const x = sequences(3, STEPS, WIDTH, 11);
      const y = randomMatrix(3, STEPS * WIDTH, 12);
      const dims: AttentionDims = { width: WIDTH, heads: 2, keyDim: 3, valueDim: 3, causal };

      const reference = (w: Record<string, Float64Array>): number[] =>
        x.flatMap((sample) => attentionReference(sample, sample, sample, { inWeight: w['mha.in_proj_weight']!, inBias: w['mha.in_proj_bias']!, outWeight: w['mha.out_proj.weight']!, outBias: w['mha.out_proj.bias']! }, dims).flat());
      const expected = reference(weights);
      expect(relativeDifference(interpreter.predict(x).data, expected)).toBeLessThan(1e-12);
      expect(relativeDifference(trainer.predict(x).data, expected)).toBeLessThan(1e-5);

      // The reference's gradients by centered differences of its mean squared error.
      const loss = (w: Record<string, Float64Array>): number => reference(w).reduce((s, v, i) => s + (v - y[Math.floor(i / (STEPS * WIDTH))]![i % (STEPS * WIDTH)]!) ** 2, 0) / expected.length;
      const { grads } = interpreter.gradients(x, y);
      const compiled = trainer.gradients(x, y);
      for (const [name, value] of Object.entries(weights)) {
        const numeric = value.map((keep, i) => {
          const h = Math.cbrt(Number.EPSILON) * Math.max(1, Math.abs(keep));
          value[i] = keep + h;
          const plus = loss(weights);
          value[i] = keep - h;
          const minus = loss(weights);
          value[i] = keep;
          return (plus - minus) / (2 * h);
        });
        expect(relativeDifference(grads[name]!.data, numeric), name).toBeLessThan(1e-7);
        expect(relativeDifference(compiled.grads[name]!.data, numeric), name).toBeLessThan(1e-5);
      }
    });
  }

  it('ignores later keys with the causal mask: the first step sees only itself', () => {
    const interpreter = interpret(selfAttention(true));
    const x = sequences(1, STEPS, WIDTH, 3);
    const changed = x.map((s) => s.map((row, t) => (t === 0 ? row : row.map((v) => v + 1))));
    const first = (p: Float64Array) => Array.from(p.slice(0, WIDTH));
    expect(first(interpreter.predict(changed).data)).toEqual(first(interpreter.predict(x).data));
    expect(Array.from(interpreter.predict(changed).data.slice(WIDTH))).not.toEqual(Array.from(interpreter.predict(x).data.slice(WIDTH)));
  });
});

describe('attention layers agree three ways, full and partial batch', () => {
  for (const causal of [false, true]) {
    it(`self-attention${causal ? ', causal' : ''}`, async () => {
      const spec = selfAttention(causal);
      await expectThreeWayAgreement(spec, sequences(4, STEPS, WIDTH, 1), randomMatrix(4, STEPS * WIDTH, 2));
      await expectThreeWayAgreement(spec, sequences(3, STEPS, WIDTH, 3), randomMatrix(3, STEPS * WIDTH, 4));
    });
  }

  it('self-attention: the products read and write heads in place, and the cotangents of Q, K and V go straight into their columns of the projection\'s', async () => {
    const program = printProgram((await compileToWasm(selfAttention(true))).program).split('\n');
    expect(program.filter((l) => / (transpose|slice|reshape|concat) %/.test(l) && /# (grad\()?mha/.test(l)), program.join('\n')).toEqual([]);
    const blocks = program.map((l) => /batch_matmul %\d+ \[into columns (\d+)\.\.(\d+) of %\d+\]/.exec(l)).filter((m) => m !== null);
    expect(blocks.map((m) => [Number(m![1]), Number(m![2])]).sort((a, b) => a[0]! - b[0]!)).toEqual([
      [0, 5],
      [6, 11],
      [12, 17],
    ]);
  });

  it('cross-attention over query, value and key of other lengths, head widths of their own (graph form)', async () => {
    const q = input([3, WIDTH], { name: 'q' });
    const v = input([5, WIDTH], { name: 'v' });
    const k = input([5, WIDTH], { name: 'k' });
    const attended = multiHeadAttention(3, { keyDim: 2, valueDim: 3, name: 'cross' }).apply([q, v, k]);
    const spec = model({ inputs: [q, v, k], outputs: [{ tensor: dense(2, { name: 'out' }).apply(flatten().apply(attended)), loss: { type: 'mse' } }], batchSize: 4 });
    expect(interpret(spec).getWeights()['cross.in_proj_weight']!.shape).toEqual([3 * (2 + 2 + 3), WIDTH]);
    expect(interpret(spec).getWeights()['cross.out_proj.weight']!.shape).toEqual([WIDTH, 9]);
    const feed = (rows: number, seed: number) => ({ q: sequences(rows, 3, WIDTH, seed), v: sequences(rows, 5, WIDTH, seed + 1), k: sequences(rows, 5, WIDTH, seed + 2) });
    await expectThreeWayAgreement(spec, feed(4, 10), randomMatrix(4, 2, 13));
    await expectThreeWayAgreement(spec, feed(3, 20), randomMatrix(3, 2, 23));
  });

  it('causal cross-attention with key width 8 and value width 12 over 6 query rows: the register-blocked products, their short last blocks of rows and columns', async () => {
    const q = input([6, 8], { name: 'q' });
    const v = input([8, 8], { name: 'v' });
    const attended = multiHeadAttention(2, { keyDim: 8, valueDim: 12, useCausalMask: true, name: 'blocked' }).apply([q, v]);
    const spec = model({ inputs: [q, v], outputs: [{ tensor: dense(3, { name: 'out' }).apply(flatten().apply(attended)), loss: { type: 'mse' } }], batchSize: 4 });
    const feed = (rows: number, seed: number) => ({ q: sequences(rows, 6, 8, seed), v: sequences(rows, 8, 8, seed + 1) });
    await expectThreeWayAgreement(spec, feed(4, 50), randomMatrix(4, 3, 53));
    await expectThreeWayAgreement(spec, feed(3, 60), randomMatrix(3, 3, 63));
  });

  it('position_embedding (a longer table) and a causal transformer_block', async () => {
    const spec = sequential({
      input: input([STEPS, WIDTH]),
      layers: [positionEmbedding({ sequenceLength: 6, name: 'pos' }), transformerBlock({ numHeads: 2, mlpDim: 8, name: 'block' }), flatten(), dense(3, { name: 'out' })],
      loss: { type: 'mse' },
      batchSize: 4,
    });
    expect(Object.keys(interpret(spec).getWeights())).toEqual([
      'pos.weight',
      'block.self_attn.in_proj_weight',
      'block.self_attn.in_proj_bias',
      'block.self_attn.out_proj.weight',
      'block.self_attn.out_proj.bias',
      'block.linear1.weight',
      'block.linear1.bias',
      'block.linear2.weight',
      'block.linear2.bias',
      'block.norm1.weight',
      'block.norm1.bias',
      'block.norm2.weight',
      'block.norm2.bias',
      'out.weight',
      'out.bias',
    ]);
    const { grads } = await expectThreeWayAgreement(spec, sequences(4, STEPS, WIDTH, 30), randomMatrix(4, 3, 31));
    // Rows 4 and 5 of the table are beyond the input's 4 steps: no gradient reaches them.
    expect(Array.from(grads['pos.weight']!.data.slice(STEPS * WIDTH))).toEqual(new Array<number>(2 * WIDTH).fill(0));
    await expectThreeWayAgreement(spec, sequences(3, STEPS, WIDTH, 40), randomMatrix(3, 3, 41));
  });
});

describe('attention trains end to end (compiled)', () => {
  it('learns to read the token the first step names out of a sequence', async () => {
    // Each sequence holds 5 random one-hot tokens of 4; the target is the token at the position
    // that step 0's pointer (a one-hot over positions, in the last 5 features) names: content
    // addressing, which attention does and a per-position MLP cannot.
    const steps = 5;
    const width = 9;
    const samples = 256;
    const rng = randomMatrix(samples, steps + 1, 77, 1);
    const x: number[][][] = [];
    const y: number[][] = [];
    for (const row of rng) {
      const tokens = row.slice(0, steps).map((u) => Math.floor((u + 1) * 2) % 4);
      const pointer = Math.floor((row[steps]! + 1) * 2.5) % steps;
      x.push(tokens.map((t, s) => Array.from({ length: width }, (_, f) => (f < 4 ? (f === t ? 1 : 0) : s === 0 && f - 4 === pointer ? 1 : 0))));
      y.push(Array.from({ length: 4 }, (_, f) => (f === tokens[pointer] ? 1 : 0)));
    }
    const spec = sequential({
      input: input([steps, width]),
      layers: [positionEmbedding(), multiHeadAttention(1, { keyDim: 8, name: 'attend' }), flatten(), dense(32, { activation: 'relu' }), dense(4, { activation: 'softmax' })],
      loss: { type: 'categorical_crossentropy' },
      optimizer: { type: 'adam', learningRate: 0.01 },
      batchSize: 32,
      seed: 3,
    });
    const trainer = await compiledOnce(spec);
    const before = trainer.evaluate(x, y).loss;
    trainer.fit({ x, y }, { epochs: 60, seed: 1 });
    const after = trainer.evaluate(x, y).loss;
    expect(after).toBeLessThan(before / 5);
  });
});

describe('attention shape errors name the layer and what was expected', () => {
  const refusal = (layers: unknown[], shape = [STEPS, WIDTH]): string => specRefusal({ input: { shape }, layers, loss: { type: 'mse' } });

  it('refuses rows of features, heads that do not divide, a short table and dropout', () => {
    expect(refusal([{ type: 'multi_head_attention', numHeads: 2 }], [6])).toMatch(/multi_head_attention takes sequences \[steps, features\]; its query is rank 1/);
    expect(refusal([{ type: 'multi_head_attention', numHeads: 4 }])).toMatch(/6 features do not split into 4 heads; give keyDim/);
    expect(refusal([{ type: 'transformer_block', numHeads: 5 }])).toMatch(/transformer_block: 6 features do not split into 5 heads/);
    expect(refusal([{ type: 'position_embedding', sequenceLength: 3 }])).toMatch(/sequenceLength 3 is shorter than the input's 4 steps/);
    expect(refusal([{ type: 'multi_head_attention', numHeads: 2, dropout: 0.1 }])).toMatch(/dropout on the attention weights is not supported/);
  });

  it('refuses a key of another width than the query', () => {
    const q = input([3, 4], { name: 'q' });
    const v = input([5, 6], { name: 'v' });
    expect(() => multiHeadAttention(2).apply([q, v])).toThrow(/the value has 6 features and the query 4/);
  });
});
