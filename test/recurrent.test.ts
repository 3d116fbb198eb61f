// The recurrent layers (simple_rnn, lstm, gru, bidirectional) and repeat_vector: outputs and
// gradients against a hand-written float64 reference of PyTorch's equations at given weights; three
// ways (interpreter vs centered differences, compiled vs interpreter) for every option, full and
// partial batch; trained end to end; and the errors a user meets.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { numericalGradients, relativeDifference } from '../compiler/gradcheck/numerical.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { bidirectional, dense, gru, input, lstm, model, repeatVector, simpleRnn } from '../compiler/model/builder.ts';
import type { Feed } from '../runtime/tensor.ts';
import { maxRelativeError } from './support/compare.ts';
import { perturbed, randomMatrix } from './support/data.ts';
import { centeredGradients, meanSquaredError, referenceRecurrent, type ReferenceOptions } from './support/recurrent-reference.ts';
import { specRefusal } from './support/refusal.ts';

const STEPS = 4;
const FEATURES = 3;

/** n sequences [STEPS][FEATURES] of seeded float32 values. */
function sequences(n: number, seed: number, steps = STEPS, features = FEATURES): number[][][] {
  return randomMatrix(n, steps * features, seed).map((row) => Array.from({ length: steps }, (_, t) => row.slice(t * features, (t + 1) * features)));
}

describe('recurrent layers against the float64 reference of PyTorch\'s equations, at checkpoint weights', () => {
  // The compiled trainer is compared too for the default LSTM and GRU (the three-way tests below
  // compare it with the interpreter for every option).
  const cases: readonly (readonly [ReferenceOptions, boolean])[] = [
    [{ type: 'simple_rnn', units: 3 }, false],
    [{ type: 'lstm', units: 3 }, true],
    [{ type: 'lstm', units: 2, goBackwards: true, returnSequences: true }, false],
    [{ type: 'gru', units: 3 }, true],
    [{ type: 'gru', units: 3, resetAfter: false }, false],
    [{ type: 'gru', units: 2, goBackwards: true, returnSequences: true }, false],
  ];
  it.each(cases)('%o: same outputs and gradients (interpreted; compiled too: %s)', async (o, compiled) => {
    const spec = {
      input: { shape: [STEPS, FEATURES] },
      layers: [{ name: 'rnn', ...o }, ...(o.returnSequences ? [{ type: 'flatten' }] : [])],
      loss: { type: 'mse' },
      batchSize: 5,
    };
    const interpreter = interpret(spec);
    // Checkpoint weights: seeded values of scale 0.5, float32, in PyTorch's names and shapes.
    const weights = perturbed(interpreter.getWeights(), 11);
    const shapes = Object.fromEntries(Object.entries(interpreter.getWeights()).map(([k, t]) => [k, t.shape]));
    const gates = o.type === 'lstm' ? 4 : o.type === 'gru' ? 3 : 1;
    expect(shapes).toEqual({
      'rnn.weight_ih_l0': [gates * o.units, FEATURES],
      'rnn.weight_hh_l0': [gates * o.units, o.units],
      'rnn.bias_ih_l0': [gates * o.units],
      'rnn.bias_hh_l0': [gates * o.units],
    });
    interpreter.setWeights(weights);
    const trainer = compiled ? await compile(spec) : null;
    trainer?.setWeights(weights);

    const x = sequences(5, 3);
    const width = o.returnSequences ? STEPS * o.units : o.units;
    const y = randomMatrix(5, width, 4);
    const expected = x.map((sample) => referenceRecurrent(o, weights, 'rnn', sample));
    expect(maxRelativeError(interpreter.predict(x).data, expected.flat())).toBeLessThan(1e-12);
    if (trainer) expect(maxRelativeError(trainer.predict(x).data, expected.flat())).toBeLessThan(1e-5);

    const exact = interpreter.gradients(x, y);
    expect(exact.loss).toBeCloseTo(meanSquaredError(expected, y), 12);
    const reference = centeredGradients(weights, (w) => meanSquaredError(x.map((s) => referenceRecurrent(o, w, 'rnn', s)), y));
    const fromTrainer = trainer?.gradients(x, y);
    for (const [name, g] of Object.entries(reference)) {
      expect(Math.hypot(...g), `${name}: a zero gradient would prove nothing`).toBeGreaterThan(0);
      expect(relativeDifference(exact.grads[name]!.data, g), `${name}: interpreter vs reference`).toBeLessThan(1e-7);
      if (fromTrainer) expect(relativeDifference(fromTrainer.grads[name]!.data, g), `${name}: compiled vs reference`).toBeLessThan(1e-5);
    }
  });
});

/**
 * One compile, then three ways at every batch: the interpreter's gradients against centered
 * differences (≤ 1e-7), the compiled trainer's against the interpreter's (≤ 1e-5), every gradient non-zero.
 */
async function expectThreeWayAtBatches(spec: unknown, batches: readonly { readonly x: Feed; readonly y: Feed }[]): Promise<void> {
  const trainer = await compile(spec);
  const interpreter = interpret(spec);
  const weights = perturbed(trainer.getWeights(), 100);
  trainer.setWeights(weights);
  interpreter.setWeights(weights);
  for (const { x, y } of batches) {
    const exact = interpreter.gradients(x, y);
    const compiled = trainer.gradients(x, y);
    const numerical = numericalGradients(interpreter, x, y, Object.keys(exact.grads));
    expect(Math.abs(compiled.loss - exact.loss) / Math.max(1, Math.abs(exact.loss))).toBeLessThan(1e-5);
    for (const [name, g] of Object.entries(exact.grads)) {
      expect(Math.hypot(...g.data), `${name} has a zero gradient: the check would prove nothing`).toBeGreaterThan(0);
      expect(relativeDifference(g.data, numerical[name]!), `${name}: interpreter vs numerical`).toBeLessThan(1e-7);
      expect(relativeDifference(compiled.grads[name]!.data, g.data), `${name}: compiled vs interpreter`).toBeLessThan(1e-5);
    }
  }
}

/** A graph model reading one sequence input through branches (the nodes no other node reads), joined into a dense output. */
function branches(nodes: readonly Record<string, unknown>[]): unknown {
  const names = nodes.map((n) => n['name'] as string);
  const read = new Set(nodes.flatMap((n) => n['inputs'] as string[]));
  const ends = nodes.flatMap((n, i) => (read.has(names[i]!) ? [] : [n['flatten'] ? `${names[i]}_flat` : names[i]!]));
  return {
    inputs: [{ name: 'x', shape: [STEPS, FEATURES] }],
    nodes: [
      ...nodes,
      ...nodes.flatMap((n) => (n['flatten'] ? [{ type: 'flatten', name: `${n['name']}_flat`, inputs: [n['name']] }] : [])),
      { type: 'concatenate', name: 'joined', inputs: ends },
      { type: 'dense', name: 'out', units: 2, inputs: ['joined'] },
    ].map((n: Record<string, unknown>) => {
      const { flatten: _flatten, ...rest } = n;
      return rest;
    }),
    outputs: [{ node: 'out', loss: { type: 'mse' } }],
    batchSize: 4,
  };
}

const fullAndPartial = [
  { x: { x: sequences(4, 21) }, y: { out: randomMatrix(4, 2, 22) } },
  { x: { x: sequences(3, 23) }, y: { out: randomMatrix(3, 2, 24) } },
];

describe('recurrent layers agree three ways for every option, full and partial batch', () => {
  it('simple_rnn: last output; returnSequences with goBackwards and sigmoid; returnState without bias', async () => {
    await expectThreeWayAtBatches(
      branches([
        { type: 'simple_rnn', name: 'a', units: 3, inputs: ['x'] },
        { type: 'simple_rnn', name: 'b', units: 2, returnSequences: true, goBackwards: true, activation: 'sigmoid', inputs: ['x'], flatten: true },
        { type: 'simple_rnn', name: 'c', units: 2, returnState: true, useBias: false, inputs: ['x'] },
      ]),
      fullAndPartial,
    );
  });

  it('lstm: last output; returnSequences with goBackwards; returnState (h and c)', async () => {
    await expectThreeWayAtBatches(
      branches([
        { type: 'lstm', name: 'a', units: 3, inputs: ['x'] },
        { type: 'lstm', name: 'b', units: 2, returnSequences: true, goBackwards: true, inputs: ['x'], flatten: true },
        { type: 'lstm', name: 'c', units: 2, returnState: true, inputs: ['x'] },
      ]),
      fullAndPartial,
    );
  });

  it('gru: resetAfter both ways; returnSequences; goBackwards with returnState', async () => {
    await expectThreeWayAtBatches(
      branches([
        { type: 'gru', name: 'a', units: 3, inputs: ['x'] },
        { type: 'gru', name: 'b', units: 2, resetAfter: false, returnSequences: true, inputs: ['x'], flatten: true },
        { type: 'gru', name: 'c', units: 2, goBackwards: true, returnState: true, inputs: ['x'] },
      ]),
      fullAndPartial,
    );
  });

  it('bidirectional lstm (sequences), bidirectional gru (last step, goBackwards), repeat_vector into a simple_rnn', async () => {
    await expectThreeWayAtBatches(
      branches([
        { type: 'bidirectional', name: 'a', layer: { type: 'lstm', units: 2, returnSequences: true }, inputs: ['x'], flatten: true },
        { type: 'bidirectional', name: 'b', layer: { type: 'gru', units: 2, goBackwards: true, resetAfter: false }, inputs: ['x'] },
        { type: 'dense', name: 'summary', units: 3, activation: 'tanh', inputs: ['b'] },
        { type: 'repeat_vector', name: 'rep', n: 2, inputs: ['summary'] },
        { type: 'simple_rnn', name: 'c', units: 2, inputs: ['rep'] },
      ]),
      fullAndPartial,
    );
  });
});

describe('a sequence of one step', () => {
  it('bidirectional: both directions get their own (zero) recurrent-weight gradients, the rest agree with the interpreter', async () => {
    // With one step h is 0, so weight_hh's gradient is zeros in both directions: equal values that
    // must still be two buffers.
    const spec = { input: { shape: [1, FEATURES] }, layers: [{ type: 'bidirectional', name: 'bi', layer: { type: 'lstm', units: 2 } }, { type: 'dense', name: 'out', units: 2 }], loss: { type: 'mse' }, batchSize: 4 };
    const trainer = await compile(spec);
    const interpreter = interpret(spec);
    trainer.setWeights(interpreter.getWeights());
    const x = { shape: [3, 1, FEATURES], data: Float32Array.from(randomMatrix(3, FEATURES, 31).flat()) };
    const y = randomMatrix(3, 2, 32);
    const compiled = trainer.gradients(x, y);
    const exact = interpreter.gradients(x, y);
    for (const name of ['bi.weight_hh_l0', 'bi.weight_hh_l0_reverse']) expect(Array.from(compiled.grads[name]!.data)).toEqual(new Array(8 * 2).fill(0));
    for (const [name, g] of Object.entries(exact.grads)) expect(relativeDifference(compiled.grads[name]!.data, g.data), name).toBeLessThan(1e-5);
  });
});

describe('bidirectional and repeat_vector', () => {
  it('bidirectional joins the forward layer and a backward copy re-aligned with the steps', () => {
    const spec = {
      input: { shape: [STEPS, FEATURES] },
      layers: [{ type: 'bidirectional', name: 'bi', layer: { type: 'lstm', units: 2, returnSequences: true } }, { type: 'flatten' }],
      loss: { type: 'mse' },
    };
    const m = interpret(spec);
    const weights = perturbed(m.getWeights(), 5);
    m.setWeights(weights);
    expect(Object.keys(weights).sort()).toEqual(
      ['bias_hh_l0', 'bias_hh_l0_reverse', 'bias_ih_l0', 'bias_ih_l0_reverse', 'weight_hh_l0', 'weight_hh_l0_reverse', 'weight_ih_l0', 'weight_ih_l0_reverse'].map((s) => `bi.${s}`),
    );
    // The backward direction's parameters under a name of their own for the reference.
    const reverse = Object.fromEntries(Object.entries(weights).flatMap(([k, v]) => (k.endsWith('_reverse') ? [[k.replace('bi.', 'rev.').replace('_reverse', ''), v]] : [])));
    const x = sequences(2, 6);
    const out = m.predict(x).data;
    x.forEach((sample, i) => {
      const forward = referenceRecurrent({ type: 'lstm', units: 2, returnSequences: true }, weights, 'bi', sample);
      const backward = referenceRecurrent({ type: 'lstm', units: 2, returnSequences: true, goBackwards: true }, reverse, 'rev', sample);
      const backwardByStep = Array.from({ length: STEPS }, (_, t) => backward.slice((STEPS - 1 - t) * 2, (STEPS - t) * 2));
      const expected = Array.from({ length: STEPS }, (_, t) => [...forward.slice(t * 2, t * 2 + 2), ...backwardByStep[t]!]).flat();
      expect(maxRelativeError(out.slice(i * STEPS * 4, (i + 1) * STEPS * 4), expected)).toBeLessThan(1e-12);
    });
  });

  it('repeat_vector gives every step the same row', () => {
    const m = interpret({ input: { shape: [2] }, layers: [{ type: 'repeat_vector', n: 3 }, { type: 'flatten' }], loss: { type: 'mse' } });
    expect(Array.from(m.predict([[1, 2]]).data)).toEqual([1, 2, 1, 2, 1, 2]);
  });
});

describe('recurrent layers learn (compiled, end to end)', () => {
  it('bidirectional lstm → gru → simple_rnn, built with the TypeScript API, remember the first step of a sequence', async () => {
    const steps = 6;
    const x0 = input([steps, 1], { name: 'x' });
    const h1 = bidirectional(lstm(4, { returnSequences: true })).apply(x0);
    const h2 = gru(8, { returnSequences: true }).apply(h1);
    const out = dense(1, { name: 'out' }).apply(simpleRnn(8).apply(h2));
    const trainer = await compile(model({ inputs: [x0], outputs: [{ tensor: out, loss: { type: 'mse' } }], batchSize: 32, optimizer: { type: 'adam', learningRate: 0.01 } }));
    const x = sequences(256, 31, steps, 1);
    const y = x.map((s) => [s[0]![0]!]);
    const before = trainer.evaluate(x, y).loss;
    trainer.fit({ x, y }, { epochs: 40, seed: 2 });
    const after = trainer.evaluate(x, y).loss;
    expect(after).toBeLessThan(before / 20);
  });
});

describe('recurrent layer errors name the layer and the option', () => {
  const refusal = specRefusal;
  const model1 = (shape: number[], layer: Record<string, unknown>) => ({ input: { shape }, layers: [layer], loss: { type: 'mse' } });

  it('refuses inputs that are not sequences, two outputs at once, and other merge modes', () => {
    expect(refusal(model1([3], { type: 'lstm', name: 'enc', units: 2 }))).toMatch(/lstm reads sequences \[steps, features\] \(rank 2 per sample\), got a rank-1 input; given \[N, 3\] \(layer 'enc'\)/);
    expect(refusal(model1([3, 2], { type: 'gru', units: 2, returnState: true, returnSequences: true }))).toMatch(/gru: returnState with returnSequences would be two tensors/);
    expect(refusal(model1([3, 2], { type: 'bidirectional', layer: { type: 'lstm', units: 2, returnState: true } }))).toMatch(/bidirectional: the wrapped layer cannot set returnState/);
    expect(refusal(model1([3, 2], { type: 'bidirectional', layer: { type: 'lstm', units: 2 }, mergeMode: 'sum' }))).toMatch(/mergeMode: only 'concat' is supported/);
    expect(refusal(model1([3, 2], { type: 'bidirectional', layer: { type: 'dense', units: 2 } }))).toMatch(/expected a recurrent layer/);
    expect(() => repeatVector(2).apply(input([3, 2]))).toThrow(/repeat_vector takes rows of features \(rank 1\), got a rank-2 input/);
  });
});
