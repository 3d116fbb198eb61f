// matmul with leading axes: an operand of rank > 2 is read as rows = its leading axes (batch
// included) × its last axis. A layer registered here views each sample's 12 features as 3 rows of
// 4 and applies one dense product to every row (relu(X·Wᵀ + b) on [N, 3, 4] → [N, 3, 5]), so the
// forward GEMM (with its bias + relu epilogue), dY·W on [N, 3, 5] and dYᵀ·X contracting over
// [N, 3], and the bias gradient's sum over two leading axes (taken in the loop of the layer's
// gradient), all run compiled and interpreted.
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileToWasm } from '../compiler/compile.ts';
import { printProgram } from '../compiler/passes/fuse.ts';
import { GraphBuilder } from '../compiler/ir/builder.ts';
import { BATCH } from '../compiler/ir/types.ts';
import { defineLayer } from '../compiler/layers/layer.ts';
import { registerLayer } from '../compiler/layers/registry.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { randomMatrix } from './support/data.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';

const ROWS = 3;
const rowDense = defineLayer({
  type: 'row_dense_fixture',
  options: { units: z.number() },
  outputShape: (o, [x]) => [(x![0]! / 4) * o.units],
  params: (o) => [
    { suffix: 'weight', shape: [o.units, 4], init: { type: 'glorot_uniform' } },
    { suffix: 'bias', shape: [o.units], init: { type: 'zeros' } },
  ],
  lower: ({ b, inputs, params, options }) => {
    const rows = b.op('reshape', [inputs[0]!], { shape: [BATCH, ROWS, 4] });
    const z = b.op('add', [b.op('matmul', [rows, params['weight']!], { transB: true }), params['bias']!]);
    return b.op('reshape', [b.op('relu', [z])], { shape: [BATCH, ROWS * options.units] });
  },
});
const unregister = registerLayer(rowDense);
afterAll(unregister);

const spec = {
  name: 'row_dense',
  input: { shape: [ROWS * 4] },
  layers: [{ type: 'row_dense_fixture', units: 5 }, { type: 'dense', units: 2 }],
  loss: { type: 'mse' },
  batchSize: 6,
  seed: 3,
};

describe('matmul over leading axes', () => {
  it('takes [N,3,4]·[5,4]ᵀ → [N,3,5], contracts [N,3,5]ᵀ·[N,3,4] → [5,4], and names both shapes when they differ', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [BATCH, 3, 4]);
    const w = b.param('w', [5, 4]);
    const y = b.op('matmul', [x, w], { transB: true });
    expect(b.node(y).shape).toEqual([BATCH, 3, 5]);
    expect(b.node(b.op('matmul', [y, x], { transA: true })).shape).toEqual([5, 4]);
    expect(() => b.op('matmul', [y, b.input('z', [BATCH, 2, 4])], { transA: true })).toThrow(/inner dimensions differ: \[N,3,5\]ᵀ · \[N,2,4\]/);
    expect(() => b.op('matmul', [w, x])).toThrow(/right operand of rank > 2 needs transA/);
  });

  it('fuses the bias and relu into the GEMM of a rank-3 product, whose rows are n·3', async () => {
    const { source } = await compileToWasm(spec, { simd: 'baseline' });
    expect(source).toMatch(/for \(; i \+ 4 <= \(n \* 3\);\)/);
    expect(source).toMatch(/\/\/ %\d+ = relu\(%\d+\) \[N,3,5\]/);
  });

  it('sums the bias gradient over both leading axes in the loop that computes the layer gradient (rows n·3, a 5-column tail)', async () => {
    const { program, source } = await compileToWasm(spec, { simd: 'baseline' });
    const text = printProgram(program).split('\n');
    expect(text.some((l) => /^elementwise +%\d+ \[N,3,5\] .*step %\d+ → mul %\d+ \[\+ column sums %\d+ \[5\]/.test(l)), text.join('\n')).toBe(true);
    expect(text.some((l) => /^node +%\d+ \[5\] .* sum %\d+/.test(l))).toBe(false);
    expect(source).toMatch(/for \(let i = 0; i < n \* 3; i\+\+\)/);
  });

  it('agrees three ways (numerical, float64 interpreter, compiled), full and partial batch', async () => {
    const target = (rows: number) => randomMatrix(rows, 2, 9);
    for (const rows of [6, 4]) await expectThreeWayAgreement(spec, randomMatrix(rows, 12, 8), target(rows));
  });

  it('trains: the loss falls', async () => {
    const model = interpret(spec);
    const x = randomMatrix(6, 12, 8);
    const y = randomMatrix(6, 2, 9);
    const first = model.evaluate(x, y).loss;
    for (let i = 0; i < 50; i++) model.trainStep(x, y);
    expect(model.evaluate(x, y).loss).toBeLessThan(first * 0.7);
  });
});
