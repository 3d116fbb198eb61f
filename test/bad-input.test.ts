// Acceptance 4: bad input gets a clear error naming what is wrong, and changes nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { parseSpec, SpecError } from '../compiler/model/spec.ts';
import { InputError } from '../runtime/errors.ts';
import type { ModelRunner } from '../runtime/runner.ts';
import type { Trainer } from '../runtime/trainer.ts';

const good = {
  name: 'bad_input',
  input: { shape: [3] },
  layers: [
    { type: 'dense', name: 'hidden', units: 4, activation: 'relu' },
    { type: 'dense', name: 'out', units: 2, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  batchSize: 4,
};

describe('bad model specs name the field', () => {
  const cases: [string, unknown, RegExp][] = [
    ['unknown layer type', { ...good, layers: [{ type: 'no_such_layer', units: 3 }] }, /layers\[0\]\.type: unknown layer type "no_such_layer"; expected one of dense, activation/],
    ['negative unit count', { ...good, layers: [{ type: 'dense', units: -3 }] }, /layers\[0\]\.units: expected a positive integer, got -3/],
    ['fractional unit count', { ...good, layers: [{ type: 'dense', units: 2.5 }] }, /layers\[0\]\.units: expected an integer, got 2\.5/],
    ['missing input shape', { ...good, input: { name: 'x' } }, /input\.shape: missing/],
    ['missing input', { ...good, input: undefined }, /input: missing/],
    ['unknown activation', { ...good, layers: [{ type: 'dense', units: 2, activation: 'swishy' }] }, /layers\[0\]\.activation: unknown activation "swishy"/],
    ['an option the activation does not take', { ...good, layers: [{ type: 'dense', units: 2, activation: { type: 'relu', alpha: 0.1 } }] }, /layers\[0\]\.activation\.alpha: only leaky_relu, elu take 'alpha'/],
    ['softmax activation layer before the end', { ...good, layers: [{ type: 'activation', activation: 'softmax' }, { type: 'dense', units: 2 }] }, /layers\[0\]\.activation: softmax is only supported on the last layer/],
    ['an option the initializer does not take', { ...good, layers: [{ type: 'dense', units: 2, kernelInitializer: { type: 'he_normal', value: 1 } }] }, /layers\[0\]\.kernelInitializer\.value: only constant takes 'value'/],
    ['a bad variance_scaling mode', { ...good, layers: [{ type: 'dense', units: 2, kernelInitializer: { type: 'variance_scaling', mode: 'fan_sum' } }] }, /layers\[0\]\.kernelInitializer\.mode: expected "fan_in", "fan_out" or "fan_avg"/],
    ['misspelt field', { ...good, layers: [{ type: 'dense', units: 2, activaton: 'relu' }] }, /layers\[0\]: unknown field\(s\) 'activaton'/],
    ['unknown loss', { ...good, loss: { type: 'hinge' } }, /loss\.type: unknown loss "hinge"/],
    ['unknown loss name', { ...good, loss: 'hinge' }, /loss\.type: unknown loss "hinge"; expected one of mse, mae/],
    ['a loss that is neither a name nor an object', { ...good, loss: 3 }, /loss: expected a loss name \(one of mse, .*\) or an object \{ type, … \}, got 3/],
    ['unknown optimizer name', { ...good, optimizer: 'adagrad' }, /optimizer\.type: unknown optimizer "adagrad"; expected one of sgd, rmsprop, adam, adamw/],
    ['no layers', { ...good, layers: [] }, /layers: a model needs at least one layer/],
    ['duplicate layer names', { ...good, layers: [{ type: 'dense', name: 'a', units: 2 }, { type: 'dense', name: 'a', units: 2 }] }, /layers\[1\]\.name: duplicate layer name 'a'/],
    ['negative learning rate', { ...good, optimizer: { type: 'sgd', learningRate: -1 } }, /optimizer\.learningRate: expected a positive number, got -1/],
  ];
  it.each(cases)('%s', (_name, spec, message) => {
    expect(() => parseSpec(spec)).toThrow(SpecError);
    expect(() => parseSpec(spec)).toThrow(message);
  });

  it('a loss or an optimizer given by its name alone is its object with every option at its default, as Keras takes them', () => {
    const named = parseSpec({ ...good, loss: 'sparse_categorical_crossentropy', optimizer: 'adam' });
    const objects = parseSpec({ ...good, loss: { type: 'sparse_categorical_crossentropy' }, optimizer: { type: 'adam' } });
    expect(named).toEqual(objects);
    expect(named.optimizer).toMatchObject({ type: 'adam', learningRate: 0.001 });
  });

  it('a loss that does not fit the last layer names the layer', () => {
    const spec = { ...good, layers: [{ type: 'dense', name: 'out', units: 2, activation: 'tanh' }] };
    expect(() => interpret(spec)).toThrow(/needs activation 'softmax' on the last layer 'out' \(it has 'tanh'\)/);
    const logits = { ...good, loss: { type: 'sparse_categorical_crossentropy', fromLogits: true } };
    expect(() => interpret(logits)).toThrow(/last layer 'out' applies softmax, so its output is not logits/);
  });
});

describe.each([
  ['compiled', async (): Promise<ModelRunner<Float32Array | Float64Array>> => (await compile(good)) as Trainer],
  ['interpreted', async (): Promise<ModelRunner<Float32Array | Float64Array>> => interpret(good)],
])('%s model: rejected calls leave the weights unchanged', (_kind, make) => {
  let model: ModelRunner<Float32Array | Float64Array>;
  let before: Record<string, number[]>;
  const snapshot = (): Record<string, number[]> => Object.fromEntries(Object.entries(model.getWeights()).map(([k, v]) => [k, Array.from(v.data)]));
  beforeAll(async () => {
    model = await make();
    before = snapshot();
  });

  const x = [
    [0.1, 0.2, 0.3],
    [0.4, 0.5, 0.6],
  ];
  const rejected: [string, () => unknown, RegExp][] = [
    ['weights with a wrong shape', () => model.setWeights({ ...model.getWeights(), 'hidden.weight': [[1, 2, 3]] }), /weights 'hidden\.weight' \(shape \[4, 3\]\): hidden\.weight has length 1, expected 4/],
    ['weights missing a name', () => { const w: Record<string, unknown> = { ...model.getWeights() }; delete w['out.bias']; model.setWeights(w as never); }, /missing parameter\(s\) 'out\.bias'/],
    ['weights with an unknown name', () => model.setWeights({ ...model.getWeights(), 'out.kernel': [1] }), /unknown parameter\(s\) 'out\.kernel'/],
    ['non-finite weights', () => model.setWeights({ ...model.getWeights(), 'out.bias': [0, NaN] }), /weights 'out\.bias' \(shape \[2\]\): element 1 is NaN/],
    ['rows of the wrong width', () => model.trainStep([[1, 2, 3], [1, 2]], [0, 1]), /input 'x': row 1 has 2 values, expected 3/],
    ['NaN in the data', () => model.trainStep([[1, 2, 3], [1, NaN, 2]], [0, 1]), /input 'x': row 1, column 1 is NaN; values must be finite/],
    ['Infinity in a typed array', () => model.trainStep(Float32Array.of(1, 2, 3, 4, Infinity, 6), [0, 1]), /input 'x': row 1, column 1 is Infinity/],
    ['a label out of range', () => model.trainStep(x, [0, 2]), /labels 'labels': row 1 is 2, expected a class index in \[0, 2\)/],
    ['a fractional label', () => model.trainStep(x, [0.5, 1]), /labels 'labels': row 0 is 0\.5/],
    ['too few labels', () => model.trainStep(x, [0]), /labels 'labels': 1 rows for 2 input rows/],
    ['more rows than the compiled batch', () => model.trainStep([...x, ...x, ...x], [0, 1, 0, 1, 0, 1]), /trainStep: 6 rows exceed the compiled batch size 4/],
    ['a flat array for multi-feature rows', () => model.predict([1, 2, 3]), /expected rows of 3 values \(an array of arrays\)/],
    ['bad fit options', () => model.fit({ x, y: [0, 1] }, { batchSize: 9 }), /fit: batchSize must be an integer in \[1, 4\]/],
    ['NaN in fit data', () => model.fit({ x: [[1, 2, 3], [NaN, 1, 1]], y: [0, 1] }), /row 1, column 0 is NaN/],
  ];
  it.each(rejected)('%s', (_name, call, message) => {
    expect(call).toThrow(InputError);
    expect(call).toThrow(message);
    expect(snapshot()).toEqual(before);
  });
});
