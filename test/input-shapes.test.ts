// Inputs of rank 2 and 3 per sample (sequences [steps, features], images [h, w, c], channels last),
// and the layers that change a sample's shape without touching its values: flatten and reshape.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { parseSpec } from '../compiler/model/spec.ts';
import { summarize } from '../compiler/model/summary.ts';
import { exportOnnx } from '../compiler/interop/onnx-export.ts';
import { gradcheck } from '../compiler/gradcheck/gradcheck.ts';
import { flatten, input, model, dense, reshape, sequential, add } from '../compiler/model/builder.ts';
import { randomClasses, randomMatrix } from './support/data.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';
import { specRefusal } from './support/refusal.ts';

const image = {
  input: { name: 'image', shape: [3, 4, 2] },
  layers: [
    { type: 'activation', activation: 'tanh' },
    { type: 'flatten' },
    { type: 'dense', units: 3, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  batchSize: 5,
};

/** A sample [3][4][2] as nested arrays, from a flat row of 24 values. */
const nest = (row: readonly number[]): number[][][] => Array.from({ length: 3 }, (_, h) => Array.from({ length: 4 }, (_, w) => [row[h * 8 + w * 2]!, row[h * 8 + w * 2 + 1]!]));

describe('image and sequence inputs', () => {
  it('accepts [h, w, c] and [steps, features] inputs; flatten gives one row of h·w·c values', async () => {
    const x = randomMatrix(5, 24, 1, 2);
    const y = randomClasses(5, 3, 2);
    await expectThreeWayAgreement(image, x, y);
    // Partial batch: 3 of the compiled 5 rows.
    await expectThreeWayAgreement(image, x.slice(0, 3), y.slice(0, 3));
    const summary = summarize(parseSpec(image));
    expect(summary.layers.map((r) => r.outputShape)).toEqual([
      ['N', 3, 4, 2],
      ['N', 24],
      ['N', 3],
    ]);
  });

  it('gradcheck draws its random batch in the input shape', async () => {
    const report = await gradcheck(image, { batch: 3 });
    expect(report.verdict).toBe('excellent');
  });

  it('takes samples as flat rows, as nested [h][w][c] arrays or as an [n, h, w, c] tensor: the same predictions', async () => {
    const trainer = await compile(image);
    const x = randomMatrix(4, 24, 3);
    const flat = Array.from(trainer.predict(x).data);
    expect(Array.from(trainer.predict(x.map(nest)).data)).toEqual(flat);
    expect(Array.from(trainer.predict({ shape: [4, 3, 4, 2], data: Float32Array.from(x.flat()) }).data)).toEqual(flat);
    expect(() => trainer.predict([nest(x[0]!).slice(0, 2)])).toThrow(/input 'image': sample 0 has length 2, expected 3/);
  });

  it('reshape views a row as [steps, features] and back, with one axis inferred from -1', async () => {
    const x = input([12], { name: 'x' });
    const seq = reshape([-1, 4], { name: 'seq' }).apply(x);
    expect(seq.shape).toEqual([3, 4]);
    const back = flatten({ name: 'back' }).apply(add([seq, reshape([3, 4]).apply(x)]));
    const spec = model({ inputs: [x], outputs: [{ tensor: dense(2, { name: 'out' }).apply(back), loss: { type: 'mse' } }], batchSize: 4 });
    const rows = randomMatrix(4, 12, 5);
    await expectThreeWayAgreement(spec, rows, randomMatrix(4, 2, 6));
    // Reshaping never moves values: out = W·(2x) + b.
    const m = interpret(spec);
    const w = m.getWeights()['out.weight']!.data;
    const got = m.predict(rows).data;
    expect(got[0]).toBeCloseTo(rows[0]!.reduce((s, v, i) => s + 2 * v * w[i]!, 0), 12);
  });

  it('trains a sequence-shaped input end to end (compiled)', async () => {
    const spec = sequential({ input: input([4, 3]), layers: [flatten(), dense(8, { activation: 'tanh' }), dense(1)], loss: { type: 'mse' }, batchSize: 16, optimizer: { type: 'adam', learningRate: 0.02 } });
    const x = randomMatrix(64, 12, 7);
    const y = x.map((r) => [r.slice(0, 3).reduce((a, b) => a + b, 0) - r[11]!]);
    const history = (await compile(spec)).fit({ x, y }, { epochs: 30, seed: 1 });
    expect(history.epochs.at(-1)!.loss).toBeLessThan(history.epochs[0]!.loss / 5);
  });

  it('exports flatten and reshape to ONNX', () => {
    const spec = sequential({ input: input([2, 3]), layers: [flatten({ name: 'f' }), reshape([3, 2], { name: 'r' }), flatten(), dense(1, { name: 'out' })], loss: { type: 'mse' } });
    const weights = interpret(spec).getWeights();
    const bytes = exportOnnx(spec, weights);
    const text = new TextDecoder('latin1').decode(bytes);
    expect(text).toContain('Flatten');
    expect(text).toContain('Reshape');
  });
});

describe('shape errors name the field and the layer', () => {
  const parseError = specRefusal;

  it('refuses inputs of rank 4 or more per sample', () => {
    expect(parseError({ input: { shape: [2, 2, 2, 2] }, layers: [{ type: 'flatten' }], loss: { type: 'mse' } })).toMatch(/input\.shape: .*rank 1 to 3/);
  });

  it('refuses an output that is neither [width] nor [steps, width] per sample, naming the node', () => {
    expect(parseError({ input: { shape: [4, 4, 1] }, layers: [{ type: 'activation', activation: 'relu', name: 'act' }], loss: { type: 'mse' } })).toMatch(
      /layers\[0\]: the output 'act' is \[N, 4, 4, 1\]; .*flatten/,
    );
    expect(
      parseError({ inputs: [{ name: 'x', shape: [2, 3, 1] }], nodes: [{ type: 'activation', activation: 'relu', name: 'a', inputs: ['x'] }], outputs: [{ node: 'a', loss: { type: 'mse' } }] }),
    ).toMatch(/outputs\[0\]\.node: the output 'a' is \[N, 2, 3, 1\]/);
  });

  it('refuses dense ending a model on an image (per pixel, [N, 4, 4, 2]), a reshape that does not fit, and channels-first flatten', () => {
    expect(parseError({ input: { shape: [4, 4, 1] }, layers: [{ type: 'dense', units: 2, name: 'fc' }], loss: { type: 'mse' } })).toMatch(/layers\[0\]: the output 'fc' is \[N, 4, 4, 2\]/);
    expect(parseError({ input: { shape: [12] }, layers: [{ type: 'reshape', targetShape: [5, -1] }, { type: 'flatten' }], loss: { type: 'mse' } })).toMatch(
      /layers\[0\]: reshape cannot view 12 values as \[5, -1\]/,
    );
    expect(parseError({ input: { shape: [12] }, layers: [{ type: 'reshape', targetShape: [-1, -1] }], loss: { type: 'mse' } })).toMatch(/targetShape: at most one axis may be -1/);
    expect(parseError({ input: { shape: [2, 2] }, layers: [{ type: 'flatten', dataFormat: 'channels_first' }], loss: { type: 'mse' } })).toMatch(/dataFormat: expected 'channels_last'/);
  });
});
