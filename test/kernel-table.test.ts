// Kernels of identical code share one function: a deeper model of the same layer shape adds
// table data (steps and addresses), not kernel functions, and the shared kernels still compute
// each layer with its own buffers (gradients three ways, training steps against the interpreter).
import { describe, expect, it } from 'vitest';
import { compileToWasm } from '../compiler/compile.ts';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { randomMatrix } from './support/data.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';

const deep = (depth: number, activation = 'tanh'): unknown => ({
  name: `deep${depth}`,
  input: { name: 'x', shape: [5] },
  layers: [...Array.from({ length: depth }, (_, i) => ({ type: 'dense', name: `h${i}`, units: 6, activation })), { type: 'dense', name: 'out', units: 2 }],
  loss: { type: 'mse' },
  optimizer: { type: 'adam', learningRate: 0.01 },
  batchSize: 4,
  seed: 3,
});

const kernelFunctions = (source: string): number => source.match(/^function kernel\d+\(/gm)?.length ?? 0;
const steps = (source: string): number => source.match(/^ {2}\d+, \d+, \/\/ kernel\d+ → %\d+$/gm)?.length ?? 0;

describe('kernel table', () => {
  it('gives every hidden layer of one shape the same kernel functions', async () => {
    const [shallow, deeper] = await Promise.all([compileToWasm(deep(3), { simd: 'baseline' }), compileToWasm(deep(9), { simd: 'baseline' })]);
    expect(kernelFunctions(deeper.source)).toBe(kernelFunctions(shallow.source));
    // Six more layers: more steps in the table, each a call of an existing function.
    expect(steps(deeper.source)).toBeGreaterThan(steps(shallow.source));
    // What a layer adds to the .wasm is data and per-parameter code (init, the guard's finiteness
    // check of each in-place update), far less than its kernels' bodies (a GEMM's alone is ~13 KiB).
    const perLayer = (deeper.wasm.length - shallow.wasm.length) / 6;
    expect(perLayer).toBeLessThan(4096);
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
    for (const rows of [4, 3, 4]) {
      const x = randomMatrix(rows, 5, 10 + rows);
      const y = randomMatrix(rows, 2, 20 + rows);
      const compiled = trainer.trainStep(x, y);
      const exact = interpreter.trainStep(x, y);
      expect(Math.abs(compiled - exact) / Math.max(1, Math.abs(exact))).toBeLessThan(1e-5);
    }
    const got = trainer.getWeights();
    for (const [name, w] of Object.entries(interpreter.getWeights())) {
      const c = got[name]!.data;
      w.data.forEach((v, i) => expect(Math.abs(c[i]! - v)).toBeLessThan(1e-5 * Math.max(1, Math.abs(v))));
    }
  });
});
