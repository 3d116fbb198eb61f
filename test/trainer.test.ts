// The artifact and the runtime: zero imports, a manifest that describes the buffers, loading
// from bytes or a precompiled module, zero-copy views, chunked predict, deterministic fit.
import { describe, expect, it } from 'vitest';
import { compile, compileToWasm } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { relativeDifference } from '../compiler/gradcheck/numerical.ts';
import { loadTrainer } from '../runtime/trainer.ts';
import { MANIFEST_SECTION, readManifest } from '../runtime/manifest.ts';
import { randomClasses, randomMatrix } from './support/data.ts';

const spec = {
  name: 'blobs',
  input: { shape: [4] },
  layers: [
    { type: 'dense', name: 'hidden', units: 16, activation: 'tanh' },
    { type: 'dense', name: 'out', units: 3, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  optimizer: { type: 'sgd', learningRate: 0.2 },
  batchSize: 8,
  seed: 9,
};

/** Three separable clusters: the label is the index of the largest of the first three features. */
function blobs(rows: number, seed: number): { x: number[][]; y: number[] } {
  const x = randomMatrix(rows, 4, seed);
  const y = x.map((r) => [0, 1, 2].reduce((best, k) => (r[k]! > r[best]! ? k : best), 0));
  return { x, y };
}

describe('the .wasm artifact', () => {
  it('imports nothing, exports the ABI, and carries its manifest', async () => {
    const { wasm, manifest } = await compileToWasm(spec);
    const module = new WebAssembly.Module(wasm);
    expect(WebAssembly.Module.imports(module)).toEqual([]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name).sort()).toEqual(['evaluate', 'gradients', 'init', 'memory', 'predict', 'train_step', 'train_step_checked']);
    expect(WebAssembly.Module.customSections(module, MANIFEST_SECTION)).toHaveLength(1);
    const read = readManifest(module);
    expect(read).toEqual(JSON.parse(JSON.stringify(manifest)));
    expect(read.params.map((p) => [p.name, p.shape])).toEqual([
      ['hidden.weight', [16, 4]],
      ['hidden.bias', [16]],
      ['out.weight', [3, 16]],
      ['out.bias', [3]],
    ]);
    expect(read.buffers.input).toMatchObject({ name: 'x', bytes: 8 * 4 * 4 });
    expect(read.labels).toEqual({ name: 'labels', shape: ['N'], dtype: 'i32' });
    // Buffers do not overlap and fit in the memory.
    const placed = [read.buffers.input, read.buffers.labels, read.buffers.prediction, read.buffers.loss, ...read.buffers.params, ...read.buffers.grads];
    const sorted = [...placed].sort((a, b) => a.offset - b.offset);
    sorted.slice(1).forEach((p, i) => expect(p.offset).toBeGreaterThanOrEqual(sorted[i]!.offset + sorted[i]!.bytes));
    expect(sorted.at(-1)!.offset + sorted.at(-1)!.bytes).toBeLessThanOrEqual(read.memory.pages * 65536);
  });

  it('loads from bytes and from a precompiled WebAssembly.Module alike', async () => {
    const { wasm } = await compileToWasm(spec);
    const fromBytes = await loadTrainer(wasm);
    const fromModule = await loadTrainer(new WebAssembly.Module(wasm));
    const { x, y } = blobs(8, 1);
    expect(fromBytes.trainStep(x, y)).toBe(fromModule.trainStep(x, y));
    expect(fromBytes.getWeights()).toEqual(fromModule.getWeights());
  });

  it('refuses a wasm that is not a nabla trainer', async () => {
    const empty = Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0);
    await expect(loadTrainer(empty)).rejects.toThrow(/not a nabla trainer: expected one 'nabla.manifest' custom section, found 0/);
  });

  it('exposes parameters as zero-copy views', async () => {
    const trainer = await compile(spec);
    trainer.views.params['out.bias']!.set([1, 2, 3]);
    expect(Array.from(trainer.getWeights()['out.bias']!.data)).toEqual([1, 2, 3]);
    const { x, y } = blobs(8, 2);
    trainer.gradients(x, y);
    expect(Array.from(trainer.views.grads['hidden.weight']!)).toEqual(Array.from(trainer.gradients(x, y).grads['hidden.weight']!.data));
  });
});

describe('runtime API', () => {
  it('predicts any number of rows, in chunks of the compiled batch', async () => {
    const trainer = await compile(spec);
    const interpreter = interpret(spec);
    const x = randomMatrix(21, 4, 5);
    const a = trainer.predict(x);
    const b = interpreter.predict(x);
    expect(a.shape).toEqual([21, 3]);
    expect(relativeDifference(a.data, b.data)).toBeLessThan(1e-6);
    // Softmax rows sum to one.
    for (let r = 0; r < 21; r++) expect(a.data[r * 3]! + a.data[r * 3 + 1]! + a.data[r * 3 + 2]!).toBeCloseTo(1, 5);
  });

  it('evaluates the mean loss over all rows, however they are chunked', async () => {
    const interpreter = interpret(spec);
    const { x, y } = blobs(19, 3);
    const whole = interpreter.evaluate(x, y);
    let sum = 0;
    for (let r = 0; r < 19; r++) sum += interpreter.evaluate([x[r]!], [y[r]!]).loss;
    expect(whole.loss).toBeCloseTo(sum / 19, 12);
    expect(whole.accuracy).toBeGreaterThanOrEqual(0);
  });

  it('fits deterministically, compiled and interpreted alike, and learns', async () => {
    const data = blobs(120, 4);
    const options = { epochs: 15, batchSize: 8, validationSplit: 0.25, seed: 3 };
    const a = (await compile(spec)).fit(data, options);
    const b = (await compile(spec)).fit(data, options);
    expect(a.epochs.map((e) => e.loss)).toEqual(b.epochs.map((e) => e.loss));
    const interpreted = interpret(spec).fit(data, options);
    a.epochs.forEach((e, i) => expect(e.loss).toBeCloseTo(interpreted.epochs[i]!.loss, 4));
    const last = a.epochs.at(-1)!;
    expect(a.epochs).toHaveLength(15);
    expect(last.loss).toBeLessThan(a.epochs[0]!.loss * 0.6);
    expect(last.valAccuracy).toBeGreaterThan(0.85);
    expect(last.valLoss).toBeTypeOf('number');
  });

  it('shuffles by the seed: another seed gives another trajectory', async () => {
    const data = blobs(40, 6);
    const a = interpret(spec).fit(data, { epochs: 2, seed: 1 });
    const b = interpret(spec).fit(data, { epochs: 2, seed: 2 });
    const c = interpret(spec).fit(data, { epochs: 2, shuffle: false });
    expect(a.epochs[1]!.loss).not.toBe(b.epochs[1]!.loss);
    expect(c.epochs[1]!.loss).not.toBe(a.epochs[1]!.loss);
  });

  it('trains a partial last batch with the right mean', async () => {
    // 10 rows at batch 8: the second step has n = 2. Same losses compiled and interpreted.
    const data = { x: randomMatrix(10, 4, 8), y: randomClasses(10, 3, 8) };
    const a = (await compile(spec)).fit(data, { epochs: 3, shuffle: false });
    const b = interpret(spec).fit(data, { epochs: 3, shuffle: false });
    a.epochs.forEach((e, i) => expect(e.loss).toBeCloseTo(b.epochs[i]!.loss, 5));
  });
});
