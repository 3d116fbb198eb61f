// Token-id inputs (dtype 'int32') and the embedding layer: each id picks a row of the table; the
// table's gradient adds the cotangent rows at their ids (an id seen twice gets both). Checked by
// hand, three ways (the ids get no gradient), end to end, and for the errors a user meets.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { gradcheck } from '../compiler/gradcheck/gradcheck.ts';
import { exportOnnx } from '../compiler/interop/onnx-export.ts';
import { dense, embedding, flatten, input, sequential } from '../compiler/model/builder.ts';
import { Rng } from '../runtime/prng.ts';
import { randomMatrix } from './support/data.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';
import { specRefusal } from './support/refusal.ts';

const spec = {
  input: { name: 'ids', shape: [3], dtype: 'int32' },
  layers: [
    { type: 'embedding', name: 'emb', inputDim: 5, outputDim: 2 },
    { type: 'flatten' },
    { type: 'dense', name: 'out', units: 2 },
  ],
  loss: { type: 'mse' },
  batchSize: 4,
};

describe('embedding', () => {
  it('looks up rows of the table (PyTorch and Keras layout [inputDim, outputDim]), interpreted and compiled', async () => {
    const table = [0, 1, 10, 11, 20, 21, 30, 31, 40, 41];
    const ids = [
      [4, 0, 2],
      [1, 1, 3],
    ];
    const expected = ids.map((row) => row.flatMap((k) => [table[2 * k]!, table[2 * k + 1]!]));
    for (const m of [interpret(spec), await compile(spec)]) {
      expect(m.getWeights()['emb.weight']!.shape).toEqual([5, 2]);
      // out = identity on the first two flattened values: the prediction shows the looked-up rows.
      m.setWeights({ 'emb.weight': Float64Array.from(table), 'out.weight': Float64Array.of(1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0), 'out.bias': [0, 0] });
      expect(Array.from(m.predict(ids).data)).toEqual(expected.map((r) => [r[0]!, r[1]!]).flat());
      expect(Array.from(m.predict(Int32Array.from(ids.flat())).data)).toEqual(expected.map((r) => [r[0]!, r[1]!]).flat());
    }
  });

  it('adds the gradient rows of an id seen twice', async () => {
    const m = interpret(spec);
    m.setWeights({ 'out.weight': new Float64Array(12).fill(1), 'out.bias': [0, 0], 'emb.weight': new Float64Array(10) });
    // Loss mean((out − y)²) with out = 0 and y = −1: dloss/dout = 2·(0 + 1)/2 = 1 per output, so
    // each flattened value gets 2 (both outputs read it with weight 1), each occurrence of an id 2 per column.
    const { grads } = m.gradients([[3, 3, 0]], [[-1, -1]]);
    expect(Array.from(grads['emb.weight']!.data)).toEqual([2, 2, 0, 0, 0, 0, 4, 4, 0, 0]);
  });

  it('agrees three ways, full and partial batch; gradcheck draws valid ids', async () => {
    const rng = new Rng(3, 7);
    const ids = Array.from({ length: 4 }, () => Array.from({ length: 3 }, () => rng.below(5)));
    await expectThreeWayAgreement(spec, ids, randomMatrix(4, 2, 1));
    await expectThreeWayAgreement(spec, ids.slice(0, 3), randomMatrix(3, 2, 2));
    expect((await gradcheck(spec)).verdict).toBe('excellent');
  });

  it('learns which tokens a sequence holds (compiled)', async () => {
    const model = sequential({
      input: input([6], { dtype: 'int32' }),
      layers: [embedding(10, 4), flatten(), dense(16, { activation: 'tanh' }), dense(1, { activation: 'sigmoid' })],
      loss: { type: 'binary_crossentropy' },
      batchSize: 32,
      optimizer: { type: 'adam', learningRate: 0.03 },
    });
    const rng = new Rng(1, 9);
    const x = Array.from({ length: 256 }, () => Array.from({ length: 6 }, () => rng.below(10)));
    const y = x.map((row) => [row.includes(7) ? 1 : 0]);
    const trainer = await compile(model);
    trainer.fit({ x, y }, { epochs: 40, seed: 1 });
    const p = trainer.predict(x).data;
    const accuracy = y.filter((t, i) => (p[i]! > 0.5 ? 1 : 0) === t[0]).length / y.length;
    expect(accuracy).toBeGreaterThan(0.95);
  });

  it('exports to ONNX as Gather on an int32 input', () => {
    const text = new TextDecoder('latin1').decode(exportOnnx(spec, interpret(spec).getWeights()));
    expect(text).toContain('Gather');
  });
});

describe('token-id errors name the input, the row and the layer', () => {
  const refusal = specRefusal;

  it('refuses ids outside [0, inputDim) and fractional ids before the step', async () => {
    for (const m of [interpret(spec), await compile(spec)]) {
      const before = m.getWeights()['emb.weight']!.data.slice();
      expect(() => m.fit({ x: [[0, 1, 5]], y: [[0, 0]] }, { epochs: 1 })).toThrow(/input 'ids': row 0, column 2 is 5, expected a token id in \[0, 5\)/);
      expect(() => m.predict([[0, 1.5, 2]])).toThrow(/row 0, column 1 is 1.5, expected a token id/);
      expect(Array.from(m.getWeights()['emb.weight']!.data)).toEqual(Array.from(before));
    }
  });

  it('refuses int32 ids into a float layer, float features into embedding, and a mask into flatten', () => {
    expect(refusal({ input: { shape: [3], dtype: 'int32' }, layers: [{ type: 'dense', units: 2, name: 'fc' }], loss: { type: 'mse' } })).toMatch(
      /layers\[0\]: dense reads float features, and 'x' holds int32 token ids: feed them to an embedding layer first.*layer 'fc'/,
    );
    expect(refusal({ input: { shape: [3] }, layers: [{ type: 'embedding', inputDim: 4, outputDim: 2 }, { type: 'flatten' }], loss: { type: 'mse' } })).toMatch(
      /embedding reads int32 token ids, and 'x' is float32: declare the model input with dtype 'int32'/,
    );
    expect(refusal({ input: { shape: [3], dtype: 'int64' }, layers: [{ type: 'flatten' }], loss: { type: 'mse' } })).toMatch(/input\.dtype: expected 'float32' or 'int32'/);
    expect(refusal({ input: { shape: [3], dtype: 'int32' }, layers: [{ type: 'embedding', inputDim: 4, outputDim: 2, maskZero: true }, { type: 'flatten' }], loss: { type: 'mse' } })).toMatch(
      /flatten cannot take the mask that 'embedding' carries/,
    );
  });
});
