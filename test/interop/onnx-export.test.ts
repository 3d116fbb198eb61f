// The ONNX export: onnxruntime-node runs the exported inference graph and gives the predictions
// of nabla's compiled float32 trainer within float32 rounding, for the example models (batch norm
// with running statistics, dropout, several inputs and outputs), one using every activation, and
// the convolutional models of conv-models.ts and the recurrent ones of recurrent-models.ts.
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, exportOnnx, ONNX_OPSET, randomBatch } from '../../compiler/index.ts';
import onnxProto from 'onnx-proto';
import { convModels } from './conv-models.ts';
import { recurrentModels } from './recurrent-models.ts';
import { maxRelativeError } from '../support/compare.ts';

const example = (path: string): unknown => JSON.parse(readFileSync(new URL(`../../examples/${path}`, import.meta.url), 'utf8'));

const activations = ['relu', 'sigmoid', 'tanh', 'softplus', 'selu', 'gelu', { type: 'gelu', approximate: true }, { type: 'leaky_relu', alpha: 0.2 }, { type: 'elu', alpha: 0.7 }, { type: 'swish', beta: 1.5 }, 'silu'];
const everything = {
  name: 'everything',
  input: { shape: [6] },
  layers: [
    ...activations.map((activation) => ({ type: 'dense', units: 6, activation })),
    { type: 'layer_normalization', center: false },
    { type: 'batch_normalization', scale: false, momentum: 0.5 },
    { type: 'dropout', rate: 0.5 },
    { type: 'activation', activation: 'tanh' },
    { type: 'dense', units: 4, activation: 'softmax', useBias: false },
  ],
  loss: { type: 'categorical_crossentropy' },
};

/** Token ids through an embedding, a sample reshaped and flattened again. */
const tokens = {
  name: 'tokens',
  input: { name: 'ids', shape: [4], dtype: 'int32' },
  layers: [
    { type: 'embedding', inputDim: 7, outputDim: 3 },
    { type: 'flatten' },
    { type: 'reshape', targetShape: [3, -1] },
    { type: 'flatten' },
    { type: 'dense', units: 2, activation: 'softmax' },
  ],
  loss: { type: 'categorical_crossentropy' },
};

/** Token ids, position embedding, causal self-attention, a cross-attention of other head widths and a transformer block. */
const attention = {
  name: 'attention',
  inputs: [{ name: 'ids', shape: [5], dtype: 'int32' }],
  nodes: [
    { type: 'embedding', name: 'emb', inputDim: 7, outputDim: 6, inputs: ['ids'] },
    { type: 'position_embedding', name: 'pos', sequenceLength: 8, inputs: ['emb'] },
    { type: 'multi_head_attention', name: 'self', numHeads: 2, useCausalMask: true, inputs: ['pos'] },
    { type: 'multi_head_attention', name: 'cross', numHeads: 3, keyDim: 2, valueDim: 3, inputs: ['self', 'pos'] },
    { type: 'transformer_block', name: 'block', numHeads: 2, mlpDim: 8, inputs: ['cross'] },
    { type: 'flatten', name: 'flat', inputs: ['block'] },
    { type: 'dense', name: 'out', units: 3, activation: 'softmax', inputs: ['flat'] },
  ],
  outputs: [{ node: 'out', loss: { type: 'categorical_crossentropy' } }],
};

const models: readonly [string, unknown][] = [
  ['iris', example('iris/model.json')],
  ['multi-output wine', example('multi-output/model.json')],
  ['residual digits', example('residual-digits/model.json')],
  ['wide & deep', example('wide-deep/model.json')],
  ['every activation and normalization', everything],
  ['token ids, embedding, reshape and flatten', tokens],
  ['position embedding, attention and a transformer block', attention],
  ...convModels,
  ...recurrentModels,
];

describe('ONNX export', () => {
  it('refuses weights that do not fit the spec, naming the tensor', () => {
    const weights = { 'hidden.weight': { shape: [10, 4], data: new Float32Array(40) } };
    expect(() => exportOnnx(example('iris/model.json'), weights)).toThrow("weights: 'hidden.bias' is missing");
    expect(() => exportOnnx(example('iris/model.json'), { ...weights, 'hidden.bias': { shape: [3], data: new Float32Array(3) } })).toThrow("weights: 'hidden.bias' has 3 values, expected [10]");
  });

  it.each(models)('%s: onnxruntime gives the compiled trainer’s predictions', async (_name, spec) => {
    const trainer = await compile(spec);
    const { x, y } = randomBatch(trainer.signature, 8, 3);
    // A few steps, so batch norm's running statistics are not their initial values.
    for (let k = 0; k < 3; k++) trainer.trainStep(x, y);
    const bytes = exportOnnx(spec, trainer.getWeights());
    const decoded = onnxProto.onnx.ModelProto.decode(bytes);
    expect(Number(decoded.opsetImport[0]!.version)).toEqual(ONNX_OPSET);

    const session = await ort.InferenceSession.create(bytes);
    const ids = new Set(trainer.signature.inputs.filter((t) => t.dtype === 'i32').map((t) => t.name));
    const feeds = Object.fromEntries(
      Object.entries(x).map(([name, t]) => [name, ids.has(name) ? new ort.Tensor('int32', Int32Array.from(t.data), [...t.shape]) : new ort.Tensor('float32', Float32Array.from(t.data), [...t.shape])]),
    );
    const results = await session.run(feeds);
    const expected = trainer.predictOutputs(x);
    expect(Object.keys(results).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, tensor] of Object.entries(expected)) {
      expect(results[name]!.dims).toEqual(tensor.shape);
      expect(maxRelativeError(results[name]!.data as Float32Array, tensor.data), name).toBeLessThan(1e-5);
    }
  });
});
