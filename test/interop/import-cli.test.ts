// `nabla import` and `nabla export` on files, and the import of Keras configs: a TensorFlow.js
// model.json with its shard on disk, Keras 3 `model.to_json()` configs (test/interop/fixtures/,
// written in the form Keras 3 gives them: there is no Python Keras here to produce them), and the
// errors that name the layer and its class.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx, exportTfjs, exportTorch, importKerasModel, interpret, parseSpec, weightsFromSafetensors, InteropError } from '../../compiler/index.ts';
// Registers the 'scale' layer, a program's own layer type with no interop mappings.
import '../fixtures/scale_layer.ts';
import { modelFiles, randomRows, saveToMemory, sequentialModel } from './tfjs-models.ts';
import { runCli } from '../support/cli.ts';
import { maxRelativeError } from '../support/compare.ts';

const run = (...argv: string[]) => runCli(argv);

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'nabla-interop-cli-'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('nabla import / export', () => {
  it('imports a tfjs model.json with its shard, and exports it to TensorFlow.js, PyTorch and ONNX', async () => {
    const model = sequentialModel();
    const files = modelFiles(await saveToMemory(model));
    writeFileSync(join(dir, 'model.json'), files.modelJson);
    writeFileSync(join(dir, 'weights.bin'), files.weights);
    const spec = join(dir, 'spec.json');
    const weights = join(dir, 'weights.safetensors');

    const imported = await run('import', join(dir, 'model.json'), '-o', spec, '--weights', weights, '--loss', 'categorical_crossentropy', '--optimizer', 'adam');
    expect(imported.err).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.out).toMatch(/Sequential, 4 layers, 8 weight tensors/);
    const written = JSON.parse(readFileSync(spec, 'utf8'));
    expect(written).toMatchObject({ loss: { type: 'categorical_crossentropy' }, optimizer: { type: 'adam' } });

    const x = randomRows(6, 5, 3);
    const reference = interpret(written);
    reference.setWeights(Object.fromEntries(weightsFromSafetensors(readFileSync(weights))));
    const expected = (model.predict(tf.tensor2d(x)) as tf.Tensor).dataSync();
    expect(maxRelativeError(reference.predict(x).data, expected)).toBeLessThan(1e-5);

    const out = join(dir, 'exported');
    const exported = await run('export', spec, '--weights', weights, '--tfjs', out, '--torch', join(dir, 'model.py'), '--onnx', join(dir, 'model.onnx'));
    expect(exported.code).toBe(0);
    expect(exported.out).toMatch(/opset 17/);
    expect(readFileSync(join(dir, 'model.py'), 'utf8')).toMatch(/class Model\(nn\.Module\)/);
    expect(existsSync(join(dir, 'model.onnx'))).toBe(true);
    const modelJson = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    const bin = readFileSync(join(out, 'weights.bin'));
    const reloaded = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length) }),
    );
    expect(maxRelativeError((reloaded.predict(tf.tensor2d(x)) as tf.Tensor).dataSync(), expected)).toBeLessThan(1e-5);
  });

  it('says which layer and class it cannot import, and what it can', async () => {
    const path = join(dir, 'unsupported.json');
    writeFileSync(path, JSON.stringify(fixture('keras3-unsupported.json')));
    const result = await run('import', path, '-o', join(dir, 'never.json'));
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/layer 'noise' \(GaussianNoise\) is not supported; nabla imports Dense, Activation, ReLU, LeakyReLU, ELU, Softmax, .*BatchNormalization, .*Concatenate/);
    expect(existsSync(join(dir, 'never.json'))).toBe(false);
  });

  it('refuses --weights for a config without weights, and an export without a target', async () => {
    const path = join(dir, 'keras3.json');
    writeFileSync(path, JSON.stringify(fixture('keras3-sequential.json')));
    const noWeights = await run('import', path, '-o', join(dir, 'k3.json'), '--weights', join(dir, 'k3.safetensors'));
    expect(noWeights.code).toBe(1);
    expect(noWeights.err).toMatch(/a Keras config has no weights/);
    const noTarget = await run('export', 'examples/iris/model.json');
    expect(noTarget.code).toBe(2);
    expect(noTarget.err).toMatch(/give --tfjs <dir>, --torch <model\.py> or --onnx <model\.onnx>/);
  });
});

describe('Keras configs', () => {
  it('imports a Keras 3 Sequential config: InputLayer, LeakyReLU and ReLU layers, initializers', () => {
    const { spec, weights, notes } = importKerasModel(fixture('keras3-sequential.json'));
    expect(weights).toBeNull();
    expect(spec).toMatchObject({
      name: 'keras3_sequential',
      input: { name: 'input_layer', shape: [3] },
      layers: [
        { type: 'dense', name: 'dense', units: 5, kernelInitializer: { type: 'he_normal' } },
        { type: 'activation', name: 'leaky_re_lu', activation: { type: 'leaky_relu', alpha: 0.1 } },
        { type: 'layer_normalization', name: 'layer_normalization', epsilon: 0.001 },
        { type: 'activation', name: 're_lu', activation: 'relu' },
        { type: 'dense', name: 'dense_1', units: 1, activation: 'sigmoid' },
      ],
      loss: { type: 'binary_crossentropy' },
    });
    expect(notes.join('\n')).toMatch(/loss binary_crossentropy \(no loss given; chosen for its sigmoid activation/);
    expect(() => parseSpec(spec)).not.toThrow();
  });

  it('imports a Keras 3 functional config with its compile config: keras_history references, a merge, the loss and optimizer', () => {
    const { spec } = importKerasModel(fixture('keras3-functional.json'));
    expect(spec).toMatchObject({
      inputs: [{ name: 'features', shape: [4] }],
      nodes: [
        { type: 'dense', name: 'dense', inputs: ['features'] },
        { type: 'dense', name: 'dense_1', activation: 'gelu', inputs: ['features'] },
        { type: 'add', name: 'add', inputs: ['dense', 'dense_1'] },
        { type: 'batch_normalization', name: 'batch_normalization', momentum: 0.9, inputs: ['add'] },
        { type: 'dropout', name: 'dropout', rate: 0.1, inputs: ['batch_normalization'] },
        { type: 'dense', name: 'out', activation: 'softmax', inputs: ['dropout'] },
      ],
      outputs: [{ node: 'out', loss: { type: 'sparse_categorical_crossentropy' } }],
      optimizer: { type: 'adam', learningRate: 0.002, beta2: 0.99, epsilon: 1e-7 },
    });
    expect(() => interpret(spec).predict([[1, 2, 3, 4]])).not.toThrow();
  });

  it('reads the loss and optimizer of a compiled tfjs model from its training config', async () => {
    const model = sequentialModel();
    model.compile({ loss: 'meanSquaredError', optimizer: tf.train.adam(0.02, 0.8) });
    const artifacts = await saveToMemory(model, { includeOptimizer: true });
    // The optimizer's own weights are saved beside the model's; they are not imported.
    expect(artifacts.weightSpecs!.length).toBeGreaterThan(8);
    const { spec, notes, weights } = importKerasModel(artifacts);
    expect(weights!.size).toBe(8);
    expect(spec).toMatchObject({ loss: { type: 'mse' }, optimizer: { type: 'adam', learningRate: 0.02, beta1: 0.8 } });
    expect(notes).toEqual([]);
  });

  it('names the layer, class and field of a config it cannot express', () => {
    const config = fixture('keras3-sequential.json') as { config: { layers: { config: Record<string, unknown> }[] } };
    config.config.layers[1]!.config['kernel_regularizer'] = { class_name: 'L2', config: { l2: 0.01 } };
    expect(() => importKerasModel(config)).toThrow(InteropError);
    expect(() => importKerasModel(config)).toThrow(/layer 'dense' \(Dense\): kernel_regularizer is not supported/);
    const activation = fixture('keras3-sequential.json') as { config: { layers: { config: Record<string, unknown> }[] } };
    activation.config.layers[5]!.config['activation'] = 'hard_sigmoid';
    expect(() => importKerasModel(activation)).toThrow(/layer 'dense_1' \(Dense\): activation 'hard_sigmoid' has no nabla equivalent/);
  });
});

describe('what an export refuses', () => {
  const spec = (activation: unknown, name = 'hidden') => ({ input: { shape: [3] }, layers: [{ type: 'dense', name, units: 2, activation }], loss: { type: 'mse' } });
  const weights = { 'hidden.weight': { shape: [2, 3], data: new Float32Array(6) }, 'hidden.bias': { shape: [2], data: new Float32Array(2) } };

  it('an activation TensorFlow.js cannot name, naming the layer', () => {
    expect(() => exportTfjs(spec({ type: 'leaky_relu', alpha: 0.2 }), weights)).toThrow(/layer 'hidden' \(dense\): activation .*leaky_relu.* has no TensorFlow.js activation name/);
    expect(() => exportTfjs(spec('relu'), weights)).not.toThrow();
  });

  it('a layer named like a Python keyword or an nn.Module attribute', () => {
    expect(() => exportTorch(spec('relu', 'lambda'))).toThrow(/layer 'lambda' is a Python keyword/);
    expect(() => exportTorch(spec('relu', 'training'))).toThrow(/layer 'training' is an attribute of torch.nn.Module/);
  });

  it('a layer type without a mapping (a program’s own layer)', () => {
    const custom = { input: { shape: [3] }, layers: [{ type: 'scale', name: 'k' }], loss: { type: 'mse' } };
    const a = { 'k.a': { shape: [], data: new Float32Array([2]) } };
    expect(() => exportTfjs(custom, a)).toThrow(/layer 'k' \(scale\) has no Keras equivalent; nabla exports dense, activation/);
    expect(() => exportTorch(custom)).toThrow(/layer 'k' \(scale\) has no PyTorch form/);
    expect(() => exportOnnx(custom, a)).toThrow(/layer 'k' \(scale\) has no ONNX form/);
  });
});
