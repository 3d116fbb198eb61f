// Masking (Keras's mask_zero): an embedding with maskZero masks the steps whose id is 0, and the
// layers after it pass the mask on, read it or refuse it. Checked against a hand-written float64
// reference of Keras's rule (a masked step leaves the state as it was), three ways (interpreter vs
// centered differences, compiled vs interpreter) full and partial batch with sequences padded to
// different lengths, by the point of masking (a padded sequence gives the outputs and gradients of
// the same sequence unpadded), end to end, and for the errors a user meets.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { exportTorch } from '../compiler/interop/torch/export.ts';
import { relativeDifference } from '../compiler/gradcheck/numerical.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { dense, embedding, globalAveragePooling1d, input, lstm, model } from '../compiler/model/builder.ts';
import { Rng } from '../runtime/prng.ts';
import { maxRelativeError } from './support/compare.ts';
import { perturbed, randomMatrix } from './support/data.ts';
import { centeredGradients, meanSquaredError, referenceRecurrent, type ReferenceOptions } from './support/recurrent-reference.ts';
import { specRefusal } from './support/refusal.ts';
import { compiledOnce, expectThreeWayAgreement } from './support/three-way.ts';

const STEPS = 5;
const VOCABULARY = 6;
const WIDTH = 3;

/** Padded id sequences: trailing padding of different lengths, leading padding, and a masked step inside. */
const IDS = [
  [3, 1, 4, 1, 5],
  [2, 5, 3, 0, 0],
  [4, 0, 0, 0, 0],
  [0, 0, 1, 2, 3],
  [5, 0, 2, 0, 1],
];

const maskOf = (ids: readonly number[]): number[] => ids.map((k) => (k === 0 ? 0 : 1));

/** The ids' rows of the table [VOCABULARY, WIDTH]. */
const lookup = (table: ArrayLike<number>, ids: readonly number[]): number[][] => ids.map((k) => Array.from({ length: WIDTH }, (_, j) => table[k * WIDTH + j]!));

/** Keras's masked mean over the steps of `sequence` (its rows in order), weighted by `mask`. */
function maskedMean(sequence: readonly number[], mask: readonly number[], units: number): number[] {
  const count = mask.reduce((a, m) => a + m, 0);
  return Array.from({ length: units }, (_, j) => mask.reduce((a, m, t) => a + m * sequence[t * units + j]!, 0) / count);
}

interface MaskedCase {
  readonly name: string;
  /** The recurrent layer (or the layer a bidirectional wraps). */
  readonly layer: ReferenceOptions;
  readonly bidirectional?: boolean;
}

const CASES: readonly MaskedCase[] = [
  { name: 'simple_rnn', layer: { type: 'simple_rnn', units: 3 } },
  { name: 'lstm returning sequences, averaged', layer: { type: 'lstm', units: 3, returnSequences: true } },
  { name: 'lstm goBackwards returning sequences, averaged', layer: { type: 'lstm', units: 2, goBackwards: true, returnSequences: true } },
  { name: 'gru', layer: { type: 'gru', units: 3 } },
  { name: 'gru (reset before), goBackwards', layer: { type: 'gru', units: 2, resetAfter: false, goBackwards: true } },
  { name: 'bidirectional lstm', layer: { type: 'lstm', units: 2 }, bidirectional: true },
  { name: 'bidirectional gru returning sequences, averaged', layer: { type: 'gru', units: 2, returnSequences: true }, bidirectional: true },
];

/** ids → embedding (maskZero) → the layer (→ global_average_pooling1d where it returns sequences). */
function maskedSpec(c: MaskedCase, steps = STEPS): unknown {
  const { type, ...options } = c.layer;
  const rnn = c.bidirectional ? { type: 'bidirectional', name: 'rnn', layer: { type, ...options } } : { type, name: 'rnn', ...options };
  return {
    input: { name: 'ids', shape: [steps], dtype: 'int32' },
    layers: [{ type: 'embedding', name: 'emb', inputDim: VOCABULARY, outputDim: WIDTH, maskZero: true }, rnn, ...(c.layer.returnSequences ? [{ type: 'global_average_pooling1d', name: 'pool' }] : [])],
    loss: { type: 'mse' },
    batchSize: 5,
  };
}

/** The reference of maskedSpec on one id sequence: Keras's equations in float64. */
function referenceOutput(c: MaskedCase, weights: Readonly<Record<string, ArrayLike<number>>>, ids: readonly number[]): number[] {
  const x = lookup(weights['emb.weight']!, ids);
  const mask = maskOf(ids);
  const units = c.layer.units;
  let sequence: number[];
  let width = units;
  if (c.bidirectional) {
    // Returning sequences, Keras's Bidirectional zeroes the masked steps' outputs in both directions.
    const zero = { zeroMaskedOutputs: c.layer.returnSequences ?? false };
    const reverse = Object.fromEntries(Object.entries(weights).flatMap(([k, v]) => (k.endsWith('_reverse') ? [[k.replace('rnn.', 'rev.').replace('_reverse', ''), v]] : [])));
    const forward = referenceRecurrent({ ...c.layer, ...zero }, weights, 'rnn', x, mask);
    const backward = referenceRecurrent({ ...c.layer, ...zero, goBackwards: true }, reverse, 'rev', x, mask);
    width = 2 * units;
    if (!c.layer.returnSequences) return [...forward, ...backward];
    sequence = Array.from({ length: ids.length }, (_, t) => [...forward.slice(t * units, (t + 1) * units), ...backward.slice((ids.length - 1 - t) * units, (ids.length - t) * units)]).flat();
  } else {
    sequence = referenceRecurrent(c.layer, weights, 'rnn', x, mask);
    if (!c.layer.returnSequences) return sequence;
  }
  // The mask passed on is the input's, in time order, also after goBackwards (Keras's compute_mask).
  return maskedMean(sequence, mask, width);
}

describe("masked recurrent layers against a float64 reference of Keras's rule", () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s: same outputs and gradients (interpreted and compiled)', async (_name, c) => {
    const spec = maskedSpec(c);
    const interpreter = interpret(spec);
    const weights = perturbed(interpreter.getWeights(), 11);
    interpreter.setWeights(weights);
    const trainer = await compiledOnce(spec);
    trainer.setWeights(weights);
    const expected = IDS.map((row) => referenceOutput(c, weights, row));
    expect(maxRelativeError(interpreter.predict(IDS).data, expected.flat())).toBeLessThan(1e-12);
    expect(maxRelativeError(trainer.predict(IDS).data, expected.flat())).toBeLessThan(1e-5);

    const y = randomMatrix(IDS.length, expected[0]!.length, 4);
    const exact = interpreter.gradients(IDS, y);
    expect(exact.loss).toBeCloseTo(meanSquaredError(expected, y), 12);
    const reference = centeredGradients(weights, (w) => meanSquaredError(IDS.map((row) => referenceOutput(c, w, row)), y));
    const compiled = trainer.gradients(IDS, y);
    for (const [name, g] of Object.entries(reference)) {
      expect(Math.hypot(...g), `${name}: a zero gradient would prove nothing`).toBeGreaterThan(0);
      expect(relativeDifference(exact.grads[name]!.data, g), `${name}: interpreter vs reference`).toBeLessThan(1e-7);
      expect(relativeDifference(compiled.grads[name]!.data, g), `${name}: compiled vs reference`).toBeLessThan(1e-5);
    }
    // The padding id's row is read only at masked steps: it gets no gradient.
    expect(Array.from(exact.grads['emb.weight']!.data.slice(0, WIDTH))).toEqual([0, 0, 0]);
  });
});

describe('masked models agree three ways, full and partial batch', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const spec = maskedSpec(c);
    const width = (c.bidirectional ? 2 : 1) * c.layer.units;
    await expectThreeWayAgreement(spec, IDS, randomMatrix(IDS.length, width, 1));
    await expectThreeWayAgreement(spec, IDS.slice(1, 4), randomMatrix(3, width, 2));
  });

  it('through the layers that pass a mask on: dense on the steps, activation, layer_normalization, position_embedding, add and concatenate', async () => {
    const spec = {
      inputs: [{ name: 'ids', shape: [STEPS], dtype: 'int32' }],
      nodes: [
        { type: 'embedding', name: 'emb', inputDim: VOCABULARY, outputDim: 4, maskZero: true, inputs: ['ids'] },
        { type: 'position_embedding', name: 'pos', inputs: ['emb'] },
        { type: 'dense', name: 'proj', units: 4, activation: 'tanh', inputs: ['pos'] },
        { type: 'layer_normalization', name: 'norm', inputs: ['proj'] },
        { type: 'add', name: 'sum', inputs: ['norm', 'emb'] },
        { type: 'concatenate', name: 'both', inputs: ['sum', 'pos'] },
        { type: 'lstm', name: 'rnn', units: 3, inputs: ['both'] },
      ],
      outputs: [{ node: 'rnn', loss: { type: 'mse' } }],
      batchSize: 5,
    };
    await expectThreeWayAgreement(spec, { ids: IDS }, { rnn: randomMatrix(IDS.length, 3, 5) });
    await expectThreeWayAgreement(spec, { ids: IDS.slice(0, 2) }, { rnn: randomMatrix(2, 3, 6) });
  });
});

describe('a padded sequence gives what the same sequence unpadded gives (the point of masking)', () => {
  // Layers whose parameters do not depend on the number of steps, so the unpadded model of each
  // length takes the padded model's weights. Not goBackwards returning sequences: Keras passes the
  // input's mask on in time order while that sequence is in reading order, so the average after it
  // weighs other steps than the unpadded sequence's.
  const cases: readonly MaskedCase[] = [CASES[0]!, CASES[1]!, CASES[3]!, CASES[4]!, CASES[5]!, CASES[6]!];
  it.each(cases.map((c) => [c.name, c] as const))('%s: outputs and gradients, interpreted and compiled', async (_name, c) => {
    const sequences = [[2, 5, 3], [4, 1], [1, 2, 3, 4, 5], [3, 3, 2, 1]];
    const padded = sequences.map((s) => [...s, ...new Array<number>(STEPS - s.length).fill(0)]);
    const y = randomMatrix(sequences.length, (c.bidirectional ? 2 : 1) * c.layer.units, 8);
    const weights = perturbed(interpret(maskedSpec(c)).getWeights(), 12);
    for (const compiled of [false, true]) {
      const build = async (steps: number) => {
        const m = compiled ? await compiledOnce(maskedSpec(c, steps)) : interpret(maskedSpec(c, steps));
        m.setWeights(weights);
        return m;
      };
      const tolerance = compiled ? 1e-5 : 1e-12;
      const whole = await build(STEPS);
      const predicted = whole.predict(padded).data;
      const batch = whole.gradients(padded, y).grads;
      // The batch's loss is the mean over its rows: its gradient the mean of each row's own.
      const mean: Record<string, Float64Array> = {};
      for (const [k, s] of sequences.entries()) {
        const alone = await build(s.length);
        const row = alone.predict([s]).data;
        expect(maxRelativeError(predicted.slice(k * row.length, (k + 1) * row.length), row), `row ${k}`).toBeLessThan(tolerance);
        for (const [name, g] of Object.entries(alone.gradients([s], [y[k]!]).grads)) {
          const sum = (mean[name] ??= new Float64Array(g.data.length));
          for (let i = 0; i < sum.length; i++) sum[i]! += g.data[i]! / sequences.length;
        }
      }
      for (const [name, g] of Object.entries(mean)) expect(relativeDifference(batch[name]!.data, g), `${name} (${compiled ? 'compiled' : 'interpreted'})`).toBeLessThan(compiled ? 1e-5 : 1e-12);
    }
  });

  it('masks of two inputs combine as Keras does (a step is kept where both keep it)', () => {
    const spec = {
      inputs: [
        { name: 'a', shape: [STEPS], dtype: 'int32' },
        { name: 'b', shape: [STEPS], dtype: 'int32' },
      ],
      nodes: [
        { type: 'embedding', name: 'ea', inputDim: VOCABULARY, outputDim: WIDTH, maskZero: true, inputs: ['a'] },
        { type: 'embedding', name: 'eb', inputDim: VOCABULARY, outputDim: WIDTH, maskZero: true, inputs: ['b'] },
        { type: 'add', name: 'sum', inputs: ['ea', 'eb'] },
        { type: 'simple_rnn', name: 'rnn', units: 2, inputs: ['sum'] },
      ],
      outputs: [{ node: 'rnn', loss: { type: 'mse' } }],
    };
    const m = interpret(spec);
    const weights = perturbed(m.getWeights(), 3);
    m.setWeights(weights);
    const a = [1, 2, 0, 3, 4];
    const b = [5, 0, 1, 2, 0];
    const x = a.map((k, t) => lookup(weights['ea.weight']!, [k])[0]!.map((v, j) => v + lookup(weights['eb.weight']!, [b[t]!])[0]![j]!));
    const expected = referenceRecurrent({ type: 'simple_rnn', units: 2 }, weights, 'rnn', x, a.map((k, t) => (k !== 0 && b[t] !== 0 ? 1 : 0)));
    expect(maxRelativeError(m.predict({ a: [a], b: [b] }).data, expected)).toBeLessThan(1e-12);
  });
});

describe('masked attention (Keras: masked queries and keys hidden)', () => {
  const LAYERS: readonly { readonly name: string; readonly layer: Record<string, unknown> }[] = [
    { name: 'multi_head_attention', layer: { type: 'multi_head_attention', name: 'mha', numHeads: 2, keyDim: 3 } },
    { name: 'transformer_block, causal', layer: { type: 'transformer_block', name: 'block', numHeads: 2, mlpDim: 5 } },
    { name: 'transformer_block, not causal', layer: { type: 'transformer_block', name: 'block', numHeads: 2, mlpDim: 5, useCausalMask: false } },
  ];
  /** ids → embedding (maskZero) → self-attention → masked average → dense. */
  const selfAttention = (layer: Record<string, unknown>, steps: number): unknown => ({
    input: { name: 'ids', shape: [steps], dtype: 'int32' },
    layers: [{ type: 'embedding', name: 'emb', inputDim: VOCABULARY, outputDim: 4, maskZero: true }, layer, { type: 'global_average_pooling1d', name: 'pool' }, { type: 'dense', name: 'out', units: 2 }],
    loss: { type: 'mse' },
    batchSize: 5,
  });

  for (const { name, layer } of LAYERS) {
    it(`${name}: self-attention agrees three ways, full and partial batch`, async () => {
      await expectThreeWayAgreement(selfAttention(layer, STEPS), IDS, randomMatrix(IDS.length, 2, 9));
      await expectThreeWayAgreement(selfAttention(layer, STEPS), IDS.slice(2), randomMatrix(3, 2, 10));
    });

    it(`${name}: a padded sequence attends as the same sequence unpadded (interpreted and compiled)`, async () => {
      const sequences = [[2, 5, 3], [4, 1], [1, 2, 3, 4, 5]];
      const padded = sequences.map((s) => [...s, ...new Array<number>(STEPS - s.length).fill(0)]);
      const weights = perturbed(interpret(selfAttention(layer, STEPS)).getWeights(), 13);
      for (const compiled of [false, true]) {
        const build = async (steps: number) => {
          const m = compiled ? await compiledOnce(selfAttention(layer, steps)) : interpret(selfAttention(layer, steps));
          m.setWeights(weights);
          return m;
        };
        const predicted = (await build(STEPS)).predict(padded).data;
        for (const [k, s] of sequences.entries()) {
          const row = (await build(s.length)).predict([s]).data;
          expect(maxRelativeError(predicted.slice(k * 2, k * 2 + 2), row), `row ${k} (${compiled ? 'compiled' : 'interpreted'})`).toBeLessThan(compiled ? 1e-5 : 1e-12);
        }
      }
    });
  }

  it("cross-attention over a masked value: the keys are hidden, the output carries the query's (no) mask", async () => {
    const spec = {
      inputs: [
        { name: 'q', shape: [3], dtype: 'int32' },
        { name: 'v', shape: [STEPS], dtype: 'int32' },
      ],
      nodes: [
        { type: 'embedding', name: 'eq', inputDim: VOCABULARY, outputDim: 4, inputs: ['q'] },
        { type: 'embedding', name: 'ev', inputDim: VOCABULARY, outputDim: 4, maskZero: true, inputs: ['v'] },
        { type: 'multi_head_attention', name: 'mha', numHeads: 2, inputs: ['eq', 'ev'] },
        { type: 'flatten', name: 'flat', inputs: ['mha'] },
        { type: 'dense', name: 'out', units: 2, inputs: ['flat'] },
      ],
      outputs: [{ node: 'out', loss: { type: 'mse' } }],
      batchSize: 5,
    };
    const q = [
      [1, 0, 2],
      [3, 3, 1],
      [0, 5, 4],
      [2, 2, 2],
      [4, 1, 0],
    ];
    await expectThreeWayAgreement(spec, { q, v: IDS }, { out: randomMatrix(5, 2, 11) });
    // The padded steps are hidden: what the padding id's row holds changes nothing.
    const m = interpret(spec);
    const before = Array.from(m.predict({ q, v: IDS }).data);
    const weights = Object.fromEntries(Object.entries(m.getWeights()).map(([name, t]) => [name, t.data.slice()]));
    const table = weights['ev.weight']!;
    table.fill(5, 0, 4);
    m.setWeights(weights);
    expect(Array.from(m.predict({ q, v: IDS }).data)).toEqual(before);
    table.fill(5, 4, 8);
    m.setWeights(weights);
    expect(Array.from(m.predict({ q, v: IDS }).data)).not.toEqual(before);
  });
});

describe('masked sequence models learn (compiled, end to end)', () => {
  it('an lstm over padded sequences of different lengths learns whether the last real token is large', async () => {
    const ids = input([8], { dtype: 'int32', name: 'ids' });
    const h = lstm(8).apply(embedding(10, 6, { maskZero: true }).apply(ids));
    const out = dense(1, { activation: 'sigmoid', name: 'out' }).apply(h);
    const trainer = await compile(model({ inputs: [ids], outputs: [{ tensor: out, loss: { type: 'binary_crossentropy' } }], batchSize: 32, optimizer: { type: 'adam', learningRate: 0.02 } }));
    const rng = new Rng(5, 1);
    const x = Array.from({ length: 512 }, () => {
      const length = 1 + rng.below(8);
      return Array.from({ length: 8 }, (_, t) => (t < length ? 1 + rng.below(9) : 0));
    });
    // The last real token: without the mask the padding steps after it would blur it.
    const y = x.map((row) => [row[row.findLastIndex((k) => k !== 0)]! > 5 ? 1 : 0]);
    trainer.fit({ x, y }, { epochs: 30, seed: 3 });
    const p = trainer.predict(x).data;
    const accuracy = y.filter((t, i) => (p[i]! > 0.5 ? 1 : 0) === t[0]).length / y.length;
    expect(accuracy).toBeGreaterThan(0.95);
  });

  it('global_average_pooling1d over the unmasked steps learns a mean of token values', async () => {
    const ids = input([6], { dtype: 'int32', name: 'ids' });
    const pooled = globalAveragePooling1d().apply(embedding(8, 4, { maskZero: true }).apply(ids));
    const out = dense(1, { name: 'out' }).apply(pooled);
    const trainer = await compile(model({ inputs: [ids], outputs: [{ tensor: out, loss: { type: 'mse' } }], batchSize: 32, optimizer: { type: 'adam', learningRate: 0.05 } }));
    const rng = new Rng(6, 2);
    const x = Array.from({ length: 256 }, () => {
      const length = 1 + rng.below(6);
      return Array.from({ length: 6 }, (_, t) => (t < length ? 1 + rng.below(7) : 0));
    });
    const y = x.map((row) => {
      const real = row.filter((k) => k !== 0);
      return [real.reduce((a, k) => a + k, 0) / real.length / 7];
    });
    const before = trainer.evaluate(x, y).loss;
    trainer.fit({ x, y }, { epochs: 40, seed: 4 });
    expect(trainer.evaluate(x, y).loss).toBeLessThan(before / 50);
  });
});

describe('mask errors name the layer', () => {
  const masked = (layers: readonly Record<string, unknown>[]) => ({
    input: { name: 'ids', shape: [STEPS], dtype: 'int32' },
    layers: [{ type: 'embedding', name: 'emb', inputDim: VOCABULARY, outputDim: 4, maskZero: true }, ...layers],
    loss: { type: 'mse' },
  });

  it('refuses a mask reaching a layer that cannot take one', () => {
    expect(specRefusal(masked([{ type: 'flatten', name: 'flat' }]))).toMatch(/layers\[1\]: flatten cannot take the mask that 'emb' carries \(from an embedding with maskZero\); mask-aware layers: .*lstm.*\(layer 'flat'\)/);
    expect(specRefusal(masked([{ type: 'conv1d', name: 'conv', filters: 2, kernelSize: 2 }, { type: 'flatten' }]))).toMatch(/conv1d cannot take the mask.*\(layer 'conv'\)/);
    expect(
      specRefusal({
        inputs: [{ name: 'ids', shape: [STEPS], dtype: 'int32' }],
        nodes: [
          { type: 'embedding', name: 'emb', inputDim: VOCABULARY, outputDim: 4, maskZero: true, inputs: ['ids'] },
          { type: 'lstm', name: 'seq', units: 2, returnSequences: true, inputs: ['emb'] },
          { type: 'batch_normalization', name: 'bn', inputs: ['seq'] },
          { type: 'lstm', name: 'last', units: 2, inputs: ['bn'] },
        ],
        outputs: [{ node: 'last', loss: { type: 'mse' } }],
      }),
    ).toMatch(/nodes\[2\]\.inputs: batch_normalization cannot take the mask that 'seq' carries.*\(node 'bn'\)/);
  });

  it('ends the mask where the steps end, so later layers need none', () => {
    expect(() => interpret(masked([{ type: 'lstm', units: 3 }, { type: 'dense', units: 2 }]))).not.toThrow();
    expect(() => interpret(masked([{ type: 'gru', units: 3, returnState: true }, { type: 'dense', units: 2 }]))).not.toThrow();
    expect(() => interpret(masked([{ type: 'global_average_pooling1d' }, { type: 'dense', units: 2 }]))).not.toThrow();
    expect(specRefusal(masked([{ type: 'lstm', units: 3, returnSequences: true }, { type: 'flatten', name: 'flat' }]))).toMatch(/flatten cannot take the mask that 'lstm' carries/);
  });

  it('refuses a per-position output that carries a mask (the losses do not weight steps by it)', () => {
    expect(specRefusal(masked([{ type: 'lstm', units: 3, returnSequences: true }, { type: 'dense', name: 'tags', units: 2 }]))).toMatch(
      /layers\[2\]: the output 'tags' carries a mask, and the per-position losses do not weight steps by one/,
    );
  });

  it('refuses maskZero on ids of rank 2, and exporting a masked model to PyTorch', () => {
    expect(specRefusal({ input: { shape: [2, 3], dtype: 'int32' }, layers: [{ type: 'embedding', name: 'emb', inputDim: 4, outputDim: 2, maskZero: true }, { type: 'flatten' }], loss: { type: 'mse' } })).toMatch(
      /embedding with maskZero masks steps: it takes ids \[steps\] \(rank 1 per sample\), got rank 2.*\(layer 'emb'\)/,
    );
    const spec = masked([{ type: 'lstm', units: 2 }]);
    expect(() => exportTorch(spec)).toThrow(/emb.*maskZero has no PyTorch or ONNX form/);
  });
});
