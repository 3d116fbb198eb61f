// Kernels of identical code share one function: a deeper model of the same layer shape adds
// table data (steps and addresses), not kernel functions, and the shared kernels still compute
// each layer with its own buffers (gradients three ways, training steps against the interpreter).
// The same holds for the functions beside the kernels: the plain step's SGD updates fused into
// the weight-gradient GEMMs, and the guard's checks of the new values.
import { describe, expect, it } from 'vitest';
import { compile, compileToWasm } from '../compiler/compile.ts';
import { NonFiniteError } from '../runtime/guard.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { expectStepsLikeInterpreter } from './support/compare.ts';
import { randomMatrix } from './support/data.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';

const adam = { type: 'adam', learningRate: 0.01 };
const deep = (depth: number, activation = 'tanh', optimizer: object = adam): unknown => ({
  name: `deep${depth}`,
  input: { name: 'x', shape: [5] },
  layers: [...Array.from({ length: depth }, (_, i) => ({ type: 'dense', name: `h${i}`, units: 6, activation })), { type: 'dense', name: 'out', units: 2 }],
  loss: { type: 'mse' },
  optimizer,
  batchSize: 4,
  seed: 3,
});

const kernelFunctions = (source: string): number => source.match(/^function kernel\d+\(/gm)?.length ?? 0;
const functions = (source: string): number => source.match(/^(export )?function \w+\(/gm)?.length ?? 0;
const steps = (source: string): number => source.match(/^ {2}\d+, \d+, \/\/ kernel\d+ → %\d+$/gm)?.length ?? 0;

describe('kernel table', () => {
  it('gives every hidden layer of one shape the same kernel functions', async () => {
    const [shallow, deeper] = await Promise.all([compileToWasm(deep(3), { simd: 'baseline' }), compileToWasm(deep(9), { simd: 'baseline' })]);
    expect(kernelFunctions(deeper.source)).toBe(kernelFunctions(shallow.source));
    // Nor any other function: the guard's checks of the new values share the table's functions,
    // and init and the gradient norms walk tables of rows.
    expect(functions(deeper.source)).toBe(functions(shallow.source));
    // Six more layers: more steps in the table, each a call of an existing function.
    expect(steps(deeper.source)).toBeGreaterThan(steps(shallow.source));
    // What a layer adds to the .wasm is data: the kernels' addresses and steps, an init row per
    // parameter and per optimizer moment, the guard's rows, and its part of the manifest (about 840 B here: two parameters,
    // their gradients, Adam's moments, the guard's check names, the spec), 1,293 B in all.
    const perLayer = (deeper.wasm.length - shallow.wasm.length) / 6;
    expect(perLayer).toBeLessThan(1400);
  });

  it('runs each shared kernel on its own layer’s buffers: gradients agree three ways', async () => {
    const x = randomMatrix(4, 5, 1);
    const y = randomMatrix(4, 2, 2);
    await expectThreeWayAgreement(deep(4), x, y);
  });

  it('trains a deep model of shared kernels like the interpreter, full and partial batch', async () => {
    const spec = deep(5, 'relu');
    const trainer = await compile(spec);
    const interpreter = interpret(spec);
    expectStepsLikeInterpreter(trainer, interpreter, [4, 3, 4].map((rows) => [randomMatrix(rows, 5, 10 + rows), randomMatrix(rows, 2, 20 + rows)] as const));
  });

  const sgd = { type: 'sgd', learningRate: 0.05 };

  it('runs the fused SGD updates of every layer through one shared function: train_step as the guarded step', async () => {
    const spec = deep(5, 'tanh', sgd);
    const { wasm, manifest, source } = await compileToWasm(spec, { simd: 'baseline' });
    // One function per distinct fused update (hidden layers alike; the first and the last differ in shape).
    expect(source.match(/^function fused\d+\(/gm)?.length).toBeLessThanOrEqual(3);
    expect(source.match(/, \/\/ fused\d+ → fused %\d+$/gm)?.length).toBe(6);
    const guarded = await compile(spec, { simd: 'baseline' });
    const { instance } = await WebAssembly.instantiate(wasm, {});
    const bare = instance.exports as unknown as { memory: WebAssembly.Memory; init(seed: number): void; train_step(n: number): number };
    bare.init(manifest.seed);
    const view = (p: { offset: number; bytes: number }): Float32Array => new Float32Array(bare.memory.buffer, p.offset, p.bytes / 4);
    for (const rows of [4, 3, 4]) {
      const x = randomMatrix(rows, 5, 40 + rows);
      const y = randomMatrix(rows, 2, 50 + rows);
      view(manifest.buffers.input).set(x.flat());
      view(manifest.buffers.labels).set(y.flat());
      expect(guarded.trainStep(x, y)).toBe(bare.train_step(rows));
    }
    manifest.buffers.params.forEach((p) => expect(guarded.views.params[p.name], p.name).toEqual(view(p)));
  });

  it('names the one new value that overflows, with every check a shared function', async () => {
    // L2 decay makes the update w − η·(g + λ·w): one huge weight of a middle layer overflows
    // float32 there while every gradient stays finite (its unit's tanh saturates, so no gradient
    // flows through it) and every other update stays far from the limit.
    const trainer = await compile(deep(6, 'tanh', { type: 'sgd', learningRate: 1e9, l2: 1 }), { simd: 'baseline' });
    const weights = trainer.getWeights();
    const middle = Float32Array.from(weights['h3.weight']!.data);
    middle[7] = 1e30;
    trainer.setWeights({ ...weights, 'h3.weight': { shape: weights['h3.weight']!.shape, data: middle } });
    const before = trainer.getWeights();
    const x = randomMatrix(4, 5, 60);
    const y = randomMatrix(4, 2, 61);
    const { grads } = trainer.gradients(x, y);
    for (const [name, g] of Object.entries(grads)) expect(g.data.every(Number.isFinite), name).toBe(true);
    let error: unknown;
    try {
      trainer.trainStep(x, y);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(NonFiniteError);
    expect((error as NonFiniteError).tensor).toBe('update:h3.weight');
    // Checked after the updates of the layers above it, which were finite.
    const checks = trainer.manifest.guard!.checks;
    expect(checks.indexOf('update:h3.weight')).toBeGreaterThan(checks.indexOf('update:h4.bias'));
    expect(trainer.getWeights()).toEqual(before);
  });
});
