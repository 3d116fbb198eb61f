// The non-finite guard: an absurd learning rate drives training to NaN/Inf; the error names the
// step and the first non-finite tensor, and the weights are those from before that step.
import { describe, expect, it } from 'vitest';
import { compile, compileToWasm } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { loadCheckpoint, saveCheckpoint } from '../runtime/checkpoint.ts';
import { NonFiniteError } from '../runtime/guard.ts';
import type { ModelRunner } from '../runtime/runner.ts';
import { randomMatrix } from './support/data.ts';

const absurd = {
  name: 'absurd',
  input: { shape: [4] },
  layers: [
    { type: 'dense', name: 'hidden', units: 8, activation: 'relu' },
    { type: 'dense', name: 'out', units: 2 },
  ],
  loss: { type: 'mse' },
  optimizer: { type: 'sgd', learningRate: 1e6 },
  batchSize: 8,
  seed: 3,
};
const x = randomMatrix(8, 4, 1, 2);
const y = randomMatrix(8, 2, 2, 2);

/** Steps until the guard throws; returns the error and the weights just before the failed step. */
function runToFailure<D extends Float32Array | Float64Array>(model: ModelRunner<D>): { error: NonFiniteError; before: Record<string, number[]> } {
  for (let step = 1; step <= 200; step++) {
    const before = Object.fromEntries(Object.entries(model.getWeights()).map(([k, t]) => [k, Array.from(t.data)]));
    try {
      model.trainStep(x, y);
    } catch (err) {
      if (err instanceof NonFiniteError) return { error: err, before };
      throw err;
    }
  }
  throw new Error('training never went non-finite');
}

describe.each([
  ['compiled', () => compile(absurd)],
  ['interpreted', () => Promise.resolve(interpret(absurd))],
] as const)('the non-finite guard, %s', (_name, make) => {
  it('names the step and the tensor, and keeps the weights from before the step', async () => {
    const model: ModelRunner<Float32Array | Float64Array> = await make();
    const { error, before } = runToFailure(model);
    expect(error.step).toBeGreaterThan(1);
    expect(error.tensor).toMatch(/^(loss|grad:|update:)/);
    expect(error.message).toMatch(new RegExp(`^non-finite value at step ${error.step}: .* became NaN or ±Inf, the first in backward order`));
    expect(error.message).toContain('the weights are those from before this step');
    // The step before it was finite, so its gradient norms are there, one per parameter.
    expect([...error.lastFiniteGradNorms!.keys()]).toEqual(['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']);
    for (const v of error.lastFiniteGradNorms!.values()) expect(Number.isFinite(v)).toBe(true);
    const after = model.getWeights();
    for (const [name, values] of Object.entries(before)) {
      expect(Array.from(after[name]!.data), name).toEqual(values);
      expect(values.every(Number.isFinite), name).toBe(true);
    }
    // The guard keeps counting: the next step fails again, at the same place.
    expect(() => model.trainStep(x, y)).toThrow(`non-finite value at step ${error.step + 1}`);
  });

  it('stops fit with the epoch and batch of the failed step', async () => {
    const model: ModelRunner<Float32Array | Float64Array> = await make();
    let thrown: unknown;
    try {
      model.fit({ x, y }, { epochs: 100, batchSize: 4 });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(NonFiniteError);
    const error = thrown as NonFiniteError;
    const epoch = Math.ceil(error.step / 2);
    expect(error.where).toBe(`epoch ${epoch}, batch ${error.step - 2 * (epoch - 1)} of 2`);
    expect(error.history!.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: epoch - 1 }, (_, k) => k + 1));
    for (const t of Object.values(model.getWeights())) expect(t.data.every(Number.isFinite)).toBe(true);
  });
});

describe('the guarded step', () => {
  it('catches a new weight that overflows float32 while the gradients are finite, at step 1', async () => {
    const trainer = await compile({ ...absurd, optimizer: { type: 'sgd', learningRate: 3e38 } });
    const before = trainer.getWeights();
    const big = y.map((row) => row.map((v) => 100 * v));
    let error: NonFiniteError | undefined;
    try {
      trainer.trainStep(x, big);
    } catch (err) {
      error = err as NonFiniteError;
    }
    expect(error).toBeInstanceOf(NonFiniteError);
    expect([error!.step, error!.tensor.startsWith('update:'), error!.lastFiniteGradNorms]).toEqual([1, true, null]);
    expect(error!.message).toContain('no earlier step had finite gradients');
    expect(trainer.getWeights()).toEqual(before);
  });

  const normalized = {
    ...absurd,
    layers: [
      { type: 'dense', name: 'hidden', units: 8, activation: 'tanh' },
      { type: 'batch_normalization', name: 'bn' },
      { type: 'dropout', name: 'drop', rate: 0.25 },
      { type: 'dense', name: 'out', units: 2 },
    ],
    optimizer: { type: 'adam', learningRate: 0.01 },
  };
  it.each([
    // train_step computes these SGD updates in the weight-gradient GEMM's epilogue; the guarded step does not.
    ['sgd', { ...absurd, optimizer: { type: 'sgd', learningRate: 0.05 } }],
    ['sgd with L2 decay', { ...absurd, optimizer: { type: 'sgd', learningRate: 0.05, l2: 0.01 } }],
    ['sgd with momentum and a schedule', { ...absurd, optimizer: { type: 'sgd', learningRate: 0.05, momentum: 0.9, schedule: { type: 'exponential', decaySteps: 2, decayRate: 0.5 } } }],
    // Running statistics and Adam's state are updated by kernels early in the program: the
    // guarded step must keep program order, or the plan's reused buffers feed them other data.
    ['batch norm, dropout, adam', normalized],
  ])('trains exactly as train_step while values are finite (%s)', async (_name, spec) => {
    const { wasm, manifest } = await compileToWasm(spec);
    const guarded = await compile(spec);
    const { instance } = await WebAssembly.instantiate(wasm, {});
    const bare = instance.exports as unknown as { memory: WebAssembly.Memory; init(seed: number): void; train_step(n: number): number };
    bare.init(manifest.seed);
    const view = (p: { offset: number; bytes: number }): Float32Array => new Float32Array(bare.memory.buffer, p.offset, p.bytes / 4);
    for (let step = 0; step < 5; step++) {
      view(manifest.buffers.input).set(x.flat());
      view(manifest.buffers.labels).set(y.flat());
      expect(guarded.trainStep(x, y)).toBe(bare.train_step(8));
    }
    manifest.buffers.params.forEach((p) => expect(guarded.views.params[p.name], p.name).toEqual(view(p)));
    manifest.buffers.state.forEach((p) => expect(guarded.views.state[p.name], p.name).toEqual(p.dtype === 'u32' ? new Uint32Array(bare.memory.buffer, p.offset, p.bytes / 4) : view(p)));
    expect(guarded.guard.steps).toBe(5);
  });
});

describe('state the step would have written', () => {
  it('keeps Adam moments, the step counter and batch-norm running statistics from before a non-finite step', async () => {
    const spec = {
      ...absurd,
      layers: [
        { type: 'dense', name: 'hidden', units: 8, activation: 'relu' },
        { type: 'batch_normalization', name: 'bn' },
        { type: 'dense', name: 'out', units: 2 },
      ],
      // Adam's first step moves every weight by about the learning rate: 1e38 overflows float32 soon.
      optimizer: { type: 'adam', learningRate: 1e38 },
    };
    const trainer = await compile(spec);
    const copy = (views: Readonly<Record<string, Float32Array | Uint32Array>>): Record<string, number[]> =>
      Object.fromEntries(Object.entries(views).map(([k, v]) => [k, Array.from(v)]));
    let before = { params: copy(trainer.views.params), state: copy(trainer.views.state) };
    let error: NonFiniteError | undefined;
    for (let step = 1; step <= 50 && !error; step++) {
      before = { params: copy(trainer.views.params), state: copy(trainer.views.state) };
      try {
        trainer.trainStep(x, y);
      } catch (err) {
        error = err as NonFiniteError;
      }
    }
    expect(error).toBeInstanceOf(NonFiniteError);
    expect(Object.keys(before.state)).toContain('optimizer:step');
    expect(Object.keys(before.params)).toContain('bn.running_mean');
    // Nothing of the failed step was written: parameters, running statistics, moments, step counter.
    expect(copy(trainer.views.params)).toEqual(before.params);
    expect(copy(trainer.views.state)).toEqual(before.state);
    expect(before.state['optimizer:step']).toEqual([error!.step - 1]);
  });
});

describe('the non-finite guard after the weights are replaced', () => {
  // Weights whose loss overflows at once: 1e30 in float32, 3e38 in a deeper net in float64.
  const huge = (model: ModelRunner<Float32Array | Float64Array>, value = 1e30): Record<string, { shape: readonly number[]; data: Float64Array }> =>
    Object.fromEntries(Object.entries(model.getWeights()).map(([k, t]) => [k, { shape: t.shape, data: new Float64Array(t.data.length).fill(value) }]));

  it.each([
    ['compiled', () => compile(absurd), 1e30],
    // Weights must be finite in float32 in both executors; in float64 the loss of a deeper net overflows at 3e38.
    ['interpreted', () => Promise.resolve(interpret({ ...absurd, layers: [1, 2, 3].map((k) => ({ type: 'dense', name: `d${k}`, units: 8 })).concat(absurd.layers) })), 3e38],
  ] as const)('%s: setWeights forgets the gradient norms of the old weights', async (_name, make, value) => {
    const model: ModelRunner<Float32Array | Float64Array> = await make();
    model.trainStep(x, y); // finite: the guard now holds norms of these weights
    model.setWeights(huge(model, value));
    const error = (() => {
      try {
        model.trainStep(x, y);
      } catch (err) {
        return err as NonFiniteError;
      }
      throw new Error(`the step with weights of ${value} stayed finite`);
    })();
    expect(error).toBeInstanceOf(NonFiniteError);
    expect(error.lastFiniteGradNorms).toBeNull();
    expect(error.message).toContain('no earlier step had finite gradients');
  });

  it('compiled: loading a checkpoint forgets them too', async () => {
    const source = await compile(absurd);
    source.setWeights(huge(source));
    const bytes = await saveCheckpoint(source, { step: 0 });
    const model = await compile(absurd);
    model.trainStep(x, y);
    await loadCheckpoint(model, bytes);
    expect(() => model.trainStep(x, y)).toThrow('no earlier step had finite gradients');
  });
});
