// The graph form checked as test/gradients.test.ts checks Sequential models: interpreter vs
// centered differences (float64, ≤ 1e-7), compiled vs interpreter (float32, ≤ 1e-5), on a full and
// a partial batch, for add, concatenate, multiply, shared layers, several inputs and several
// outputs with loss weights. Then what only graphs have: shared gradients add up, the model's loss
// is the weighted sum of its outputs' losses, named feeds.
import { describe, expect, it } from 'vitest';
import { compile, compileToWasm } from '../compiler/compile.ts';
import { loadCheckpoint, saveCheckpoint } from '../runtime/checkpoint.ts';
import { completeManifest, type Manifest } from '../runtime/manifest.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { relativeDifference } from '../compiler/gradcheck/numerical.ts';
import { InputError } from '../runtime/errors.ts';
import { randomMatrix } from './support/data.ts';
import { GRAPH_MODELS } from './support/graphs.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';

describe.each(GRAPH_MODELS)('$name', ({ spec, inputs, targets, training }) => {
  const B = spec.batchSize!;

  it.each([
    ['full batch', B],
    ['partial batch', B - 3],
  ])('agrees three ways on a %s', async (_label, n) => {
    await expectThreeWayAgreement(spec, inputs(n, 10 + n), targets(n, 20 + n), { training });
  });

  it('predicts and evaluates the same compiled and interpreted', async () => {
    const trainer = await compile(spec);
    const interpreter = interpret(spec);
    interpreter.setWeights(trainer.getWeights());
    const rows = B + 3; // two chunks, the second partial
    const x = inputs(rows, 5);
    const y = targets(rows, 6);
    const a = trainer.predictOutputs(x);
    const b = interpreter.predictOutputs(x);
    for (const [name, t] of Object.entries(b)) expect(relativeDifference(a[name]!.data, t.data), name).toBeLessThan(1e-6);
    const ea = trainer.evaluate(x, y);
    const eb = interpreter.evaluate(x, y);
    expect(ea.loss).toBeCloseTo(eb.loss, 5);
    for (const [name, o] of Object.entries(eb.outputs ?? {})) expect(ea.outputs![name]!.loss, name).toBeCloseTo(o.loss, 5);
  });
});

const shared = GRAPH_MODELS.find((c) => c.name.startsWith('shared layer'))!;
const twoOutputs = GRAPH_MODELS.find((c) => c.name.startsWith('two outputs'))!;
const wideDeep = GRAPH_MODELS.find((c) => c.name.startsWith('concatenate'))!;

describe('graph semantics', () => {
  it('a shared layer has one set of parameters, and its gradient is the sum over its applications', () => {
    const model = interpret(shared.spec);
    expect(Object.keys(model.getWeights()).sort()).toEqual(['encoder.bias', 'encoder.weight', 'norm.bias', 'norm.weight', 'out.bias', 'out.weight']);
    const x = shared.inputs(5, 1) as { a: number[][]; b: number[][] };
    const y = shared.targets(5, 2);
    const both = model.gradients(x, y).grads['encoder.weight']!.data;
    // The same model with the second application cut off from the parameters: a separate copy of the layer.
    const split = interpret({
      ...shared.spec,
      nodes: shared.spec.nodes.map((n) => (n.name === 'encoder_b' ? { type: 'dense', name: 'encoder_b', units: 3, activation: 'tanh', inputs: ['b'] } : n)),
    });
    const weights = model.getWeights();
    split.setWeights({ ...weights, 'encoder_b.weight': weights['encoder.weight']!, 'encoder_b.bias': weights['encoder.bias']! });
    const parts = split.gradients(x, y).grads;
    const sum = both.map((_, i) => parts['encoder.weight']!.data[i]! + parts['encoder_b.weight']!.data[i]!);
    expect(relativeDifference(both, sum)).toBeLessThan(1e-12);
    expect(relativeDifference(both, parts['encoder.weight']!.data)).toBeGreaterThan(1e-3);
  });

  it("the model's loss is the weighted sum of its outputs' own losses", () => {
    const model = interpret(twoOutputs.spec);
    const x = twoOutputs.inputs(20, 3);
    const y = twoOutputs.targets(20, 4);
    const e = model.evaluate(x, y);
    expect(Object.keys(e.outputs!)).toEqual(['classes', 'aux']);
    expect(e.outputs!['classes']!.accuracy).toBeGreaterThanOrEqual(0);
    expect(e.loss).toBeCloseTo(0.7 * e.outputs!['classes']!.loss + 2 * e.outputs!['aux']!.loss, 12);
    // Each output alone, as its own model with the same weights, gives the same loss.
    const alone = interpret({ ...twoOutputs.spec, outputs: [{ node: 'value', name: 'aux', loss: { type: 'huber', delta: 0.5 } }], nodes: twoOutputs.spec.nodes.filter((n) => n.name !== 'classes') });
    const w = model.getWeights();
    alone.setWeights(Object.fromEntries(Object.entries(w).filter(([k]) => !k.startsWith('classes.'))));
    expect(alone.evaluate(x, { aux: (y as { aux: number[][] }).aux }).loss).toBeCloseTo(e.outputs!['aux']!.loss, 12);
  });

  it('fit trains every output and reports each on validation', async () => {
    const trainer = await compile(twoOutputs.spec);
    const x = { x: randomMatrix(64, 5, 9, 1) };
    // Learnable targets: the class is the largest of the first three features, the value a sum.
    const xs = x.x;
    const y = { classes: xs.map((r) => [0, 1, 2].reduce((b, k) => (r[k]! > r[b]! ? k : b), 0)), aux: xs.map((r) => [r[3]! + r[4]!, r[0]! - r[1]!]) };
    const history = trainer.fit({ x, y }, { epochs: 30, validationSplit: 0.25 });
    const first = history.epochs[0]!;
    const last = history.epochs.at(-1)!;
    expect(last.loss).toBeLessThan(first.loss / 2);
    expect(Object.keys(last.valOutputs!)).toEqual(['classes', 'aux']);
  });

  it('named feeds: missing, unknown and mismatched tensors are named', async () => {
    const model = interpret(wideDeep.spec);
    const x = wideDeep.inputs(4, 1) as { wide: number[][]; deep: number[][] };
    expect(() => model.predict(x.wide)).toThrow(/inputs: the model has 2 inputs \(wide, deep\); pass \{ wide: \.\.\., deep: \.\.\. \}/);
    expect(() => model.predict({ wide: x.wide })).toThrow(/inputs: 'deep' is missing/);
    expect(() => model.predict({ ...x, tall: x.wide })).toThrow(/inputs: 'tall' is not one of the model's inputs \(wide, deep\)/);
    expect(() => model.predict({ wide: x.wide, deep: x.deep.slice(1) })).toThrow(/inputs: 'deep' has 3 rows, 'wide' has 4/);
    expect(() => model.trainStep(x, { output: [[0, 1]] })).toThrow(InputError);
    expect(model.predict(x).shape).toEqual([4, 2]);
    expect(() => interpret(twoOutputs.spec).predict({ x: randomMatrix(2, 5, 1) })).toThrow(/2 outputs \(classes, aux\); use predictOutputs\(\)/);
    // A single-input model takes its one tensor bare or by name.
    const single = interpret(GRAPH_MODELS[0]!.spec);
    const rows = randomMatrix(3, 4, 7);
    expect(single.predict({ x: rows }).data).toEqual(single.predict(rows).data);
  });
});

describe('the runtime with several inputs and outputs', () => {
  it('names every input, target and prediction view, and round-trips a checkpoint', async () => {
    const trainer = await compile(twoOutputs.spec);
    expect(Object.keys(trainer.views.inputs)).toEqual(['x']);
    expect(Object.keys(trainer.views.targets)).toEqual(['classes', 'aux']);
    expect(trainer.views.targets['classes']).toBeInstanceOf(Int32Array);
    expect(trainer.manifest.buffers.losses.map((p) => p.name)).toEqual(['loss:classes', 'loss:aux']);
    const x = twoOutputs.inputs(8, 1);
    const y = twoOutputs.targets(8, 2);
    trainer.trainStep(x, y);
    const bytes = await saveCheckpoint(trainer, { step: 1 });
    const other = await compile(twoOutputs.spec);
    expect((await loadCheckpoint(other, bytes)).sameSpec).toBe(true);
    expect(other.trainStep(x, y)).toBe(trainer.trainStep(x, y));
  });

  it("an older single-input manifest gets its lists of one input and one output", async () => {
    const { manifest } = await compileToWasm(GRAPH_MODELS[0]!.spec, { simd: 'baseline' });
    const { inputs: _i, outputs: _o, ...rest } = manifest;
    const { inputs: _bi, targets: _bt, predictions: _bp, losses: _bl, ...buffers } = manifest.buffers;
    const old = { ...rest, buffers } as unknown as Manifest;
    const sequential = await compileToWasm({ input: { shape: [2] }, layers: [{ type: 'dense', name: 'out', units: 1 }], loss: { type: 'mse' } }, { simd: 'baseline' });
    const { inputs: _si, outputs: _so, ...seqRest } = sequential.manifest;
    const { inputs: _sbi, targets: _sbt, predictions: _sbp, losses: _sbl, ...seqBuffers } = sequential.manifest.buffers;
    expect(completeManifest({ ...seqRest, buffers: seqBuffers } as unknown as Manifest)).toEqual(sequential.manifest);
    expect(completeManifest(old).inputs).toEqual(manifest.inputs);
  });
});
