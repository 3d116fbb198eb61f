// The PyTorch export: the generated module, given nabla's weights as safetensors, predicts, computes
// the loss and its gradients, and trains with the generated optimizer as nabla's float64
// interpreter does (≤ 1e-6 relative), for the example models, one using every activation, the
// merges, a shared layer and gradient clipping, and the convolutional models of conv-models.ts. It
// needs Python with torch (Debian: python3-torch); without them it is skipped with a message, except
// under CI=true, where it fails.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, exportTorch, interpret, loadCheckpoint, randomBatch, relativeDifference, weightsFromSafetensors, weightsToSafetensors } from '../../compiler/index.ts';
import { toWeights } from '../../compiler/interop/weights.ts';
import { convModels } from './conv-models.ts';
import { recurrentModels } from './recurrent-models.ts';
import { torchPython } from '../support/python.ts';

const STEPS = 3;
const TOLERANCE = 1e-6;

/** A Python with torch: Debian's python3-torch installs for /usr/bin/python3, which a pyenv python3 may hide. */
const python = torchPython('PyTorch export test');

const example = (path: string): unknown => JSON.parse(readFileSync(new URL(`../../examples/${path}`, import.meta.url), 'utf8'));

/** Dropout draws other masks in PyTorch: training is compared with the dropout rate 0 (inference is compared as written). */
function withoutDropout(spec: unknown): unknown {
  const s = spec as { layers?: { type: string }[]; nodes?: { type: string }[] };
  const strip = (l: { type: string }) => (l.type === 'dropout' ? { ...l, rate: 0 } : l);
  return { ...s, ...(s.layers ? { layers: s.layers.map(strip) } : {}), ...(s.nodes ? { nodes: s.nodes.map(strip) } : {}) };
}

const everything = {
  name: 'everything',
  inputs: [
    { name: 'a', shape: [5] },
    { name: 'b', shape: [3] },
  ],
  nodes: [
    { type: 'dense', name: 'enc', units: 6, activation: { type: 'leaky_relu', alpha: 0.2 }, inputs: ['a'] },
    { type: 'dense', name: 'proj', units: 5, activation: 'tanh', useBias: false, inputs: ['b'] },
    { type: 'apply', name: 'enc_b', layer: 'enc', inputs: ['proj'] },
    { type: 'multiply', name: 'gate', inputs: ['enc', 'enc_b'] },
    { type: 'layer_normalization', name: 'ln', inputs: ['gate'] },
    { type: 'dense', name: 'g1', units: 6, activation: 'gelu', inputs: ['ln'] },
    { type: 'dense', name: 'g2', units: 6, activation: { type: 'gelu', approximate: true }, inputs: ['g1'] },
    { type: 'dense', name: 'e', units: 6, activation: { type: 'elu', alpha: 0.5 }, inputs: ['g2'] },
    { type: 'dense', name: 's', units: 6, activation: 'selu', inputs: ['e'] },
    { type: 'dense', name: 'w', units: 6, activation: { type: 'swish', beta: 1.5 }, inputs: ['s'] },
    { type: 'dense', name: 'si', units: 6, activation: 'silu', inputs: ['w'] },
    { type: 'dense', name: 'sp', units: 6, activation: 'softplus', inputs: ['si'] },
    { type: 'batch_normalization', name: 'bn', center: false, inputs: ['sp'] },
    { type: 'add', name: 'res', inputs: ['bn', 'ln'] },
    { type: 'concatenate', name: 'cat', inputs: ['res', 'b'] },
    { type: 'dense', name: 'yes', units: 2, activation: 'sigmoid', inputs: ['cat'] },
    { type: 'dense', name: 'amount', units: 1, inputs: ['cat'] },
    { type: 'dense', name: 'probs', units: 3, activation: 'softplus', inputs: ['cat'] },
  ],
  outputs: [
    { node: 'yes', loss: { type: 'binary_crossentropy' } },
    { node: 'amount', loss: { type: 'huber', delta: 0.5, reduction: 'sum' }, lossWeight: 0.3 },
    { node: 'probs', loss: { type: 'categorical_crossentropy', weight: 2 } },
  ],
  optimizer: { type: 'rmsprop', learningRate: 0.01, clipNorm: 0.5, l2: 0.001, schedule: { type: 'exponential', decaySteps: 2, decayRate: 0.5 } },
  seed: 4,
};

const models: readonly [string, unknown][] = [
  ['iris (sparse cross-entropy, SGD)', example('iris/model.json')],
  ['iris binary (sigmoid cross-entropy)', example('iris/binary.json')],
  ['seed network (mse)', example('seed/model.json')],
  ['multi-output wine (two losses, Adam with L2)', example('multi-output/model.json')],
  ['residual digits (batch norm, AdamW, cosine schedule)', example('residual-digits/model.json')],
  ['wide & deep (dropout, concatenate)', example('wide-deep/model.json')],
  ['every activation, merges, a shared layer, clipping, RMSprop, exponential schedule', everything],
  [
    'token ids through an embedding, reshape and flatten',
    {
      input: { name: 'ids', shape: [4], dtype: 'int32' },
      layers: [
        { type: 'embedding', name: 'emb', inputDim: 6, outputDim: 3 },
        { type: 'reshape', targetShape: [2, 6] },
        { type: 'flatten' },
        { type: 'dense', name: 'out', units: 2 },
      ],
      loss: { type: 'mse' },
      optimizer: { type: 'adam', learningRate: 0.01 },
    },
  ],
  [
    'position embedding, a causal transformer block and causal self-attention (nn.TransformerEncoderLayer, nn.MultiheadAttention)',
    {
      input: { name: 'ids', shape: [5], dtype: 'int32' },
      layers: [
        { type: 'embedding', name: 'emb', inputDim: 7, outputDim: 8 },
        { type: 'position_embedding', name: 'pos', sequenceLength: 6 },
        { type: 'transformer_block', name: 'block', numHeads: 2, mlpDim: 12 },
        { type: 'multi_head_attention', name: 'attn', numHeads: 4, useCausalMask: true },
        { type: 'flatten' },
        { type: 'dense', name: 'out', units: 3, activation: 'softmax' },
      ],
      loss: { type: 'sparse_categorical_crossentropy' },
      optimizer: { type: 'adam', learningRate: 0.01 },
    },
  ],
  [
    'a language-model head: dense softmax at every position, sparse cross-entropy per position',
    {
      input: { name: 'ids', shape: [5], dtype: 'int32' },
      layers: [
        { type: 'embedding', name: 'emb', inputDim: 7, outputDim: 8 },
        { type: 'transformer_block', name: 'block', numHeads: 2, mlpDim: 12 },
        { type: 'dense', name: 'next', units: 7, activation: 'softmax' },
      ],
      loss: { type: 'sparse_categorical_crossentropy' },
      optimizer: { type: 'adam', learningRate: 0.01 },
    },
  ],
  ...convModels,
  ...recurrentModels,
  ['SGD with Nesterov momentum and a step schedule', { ...(example('iris/model.json') as object), optimizer: { type: 'sgd', learningRate: 0.05, momentum: 0.9, nesterov: true, clipValue: 0.1, schedule: { type: 'step', stepSize: 2, gamma: 0.5 } } }],
];

const dir = mkdtempSync(join(tmpdir(), 'nabla-torch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plain = (t: { data: ArrayLike<number> }): number[] => Array.from(t.data);

/** Row-major values as nested lists of `shape` (an image batch [N, H, W, C] as torch.tensor reads it). */
type Nested = number | Nested[];
function nested(values: readonly number[], shape: readonly number[]): Nested[] {
  if (shape.length <= 1) return [...values];
  const size = values.length / shape[0]!;
  return Array.from({ length: shape[0]! }, (_, i) => nested(values.slice(i * size, (i + 1) * size), shape.slice(1)));
}

describe.skipIf(python === null)('PyTorch export', () => {
  it.each(models)('%s: outputs, gradients and optimizer steps match the float64 interpreter', (_name, model) => {
    const spec = { ...(model as object), batchSize: 16 };
    const inference = interpret(spec);
    // Both sides start from the same float32 weights: nabla's safetensors.
    const bytes = weightsToSafetensors(toWeights(inference.getWeights()));
    const weights = Object.fromEntries(weightsFromSafetensors(bytes));
    inference.setWeights(weights);
    const { x, y } = randomBatch(inference.signature, 12, 7);
    const predicted = inference.predictOutputs(x);

    const training = interpret(withoutDropout(spec));
    training.setWeights(weights);
    const { loss, grads } = training.gradients(x, y);
    for (let k = 0; k < STEPS; k++) training.trainStep(x, y);
    const trained = training.getWeights();

    const folder = mkdtempSync(join(dir, 'model-'));
    writeFileSync(join(folder, 'model.py'), exportTorch(withoutDropout(spec)));
    writeFileSync(join(folder, 'weights.safetensors'), bytes);
    const rows = (t: { shape: readonly number[]; data: ArrayLike<number> }) => nested(plain(t), t.shape);
    const batch = { x: Object.fromEntries(Object.entries(x).map(([k, t]) => [k, rows(t)])), y: Object.fromEntries(Object.entries(y).map(([k, t]) => [k, rows(t)])) };
    writeFileSync(join(folder, 'batch.json'), JSON.stringify(batch));
    const script = new URL('./torch-check.py', import.meta.url).pathname;
    const out = JSON.parse(execFileSync(python!, [script, folder, String(STEPS)], { encoding: 'utf8', timeout: 60_000 })) as {
      predictions: Record<string, number[]>;
      loss: number;
      grads: Record<string, number[]>;
      trained: Record<string, number[]>;
    };

    for (const [name, tensor] of Object.entries(predicted)) expect(relativeDifference(out.predictions[name]!, plain(tensor)), `prediction ${name}`).toBeLessThanOrEqual(TOLERANCE);
    expect(Math.abs(out.loss - loss) / Math.abs(loss)).toBeLessThanOrEqual(TOLERANCE);
    expect(Object.keys(out.grads).sort()).toEqual(Object.keys(grads).sort());
    // A gradient that is zero up to rounding (a bias before batch norm) is judged against the whole gradient's scale.
    const scale = Math.hypot(...Object.values(grads).flatMap(plain));
    for (const [name, grad] of Object.entries(grads)) expect(relativeDifference(out.grads[name]!, plain(grad), scale), `gradient ${name}`).toBeLessThanOrEqual(TOLERANCE);
    expect(Object.keys(out.trained).sort()).toEqual(Object.keys(trained).sort());
    // Parameters are of order one; one that is zero up to rounding (a bias before batch norm) is judged absolutely.
    for (const [name, value] of Object.entries(trained)) expect(relativeDifference(out.trained[name]!, plain(value), 1), `after ${STEPS} steps: ${name}`).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe.skipIf(python === null)('the DistributedDataParallel example', () => {
  it('trains the exported iris model in two processes, and nabla loads the weights it writes', async () => {
    const folder = mkdtempSync(join(dir, 'ddp-'));
    const spec = example('iris/model.json');
    writeFileSync(join(folder, 'model.py'), exportTorch(spec));
    const script = new URL('../../examples/torch-ddp/train_ddp.py', import.meta.url).pathname;
    const data = new URL('../../examples/iris/iris.csv', import.meta.url).pathname;
    const saved = join(folder, 'trained.safetensors');
    // What torchrun sets for each worker (Debian's torchrun 1.13 fails on Python 3.11; see the example's README).
    const port = String(29500 + Math.floor(Math.random() * 400));
    const worker = (rank: number) =>
      new Promise<string>((resolve, reject) => {
        const env = { ...process.env, RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: port };
        const child = spawn(python!, [script, '--model', join(folder, 'model.py'), '--data', data, '--epochs', '30', '--save', saved], { env });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`rank ${rank} exited with ${code}:\n${out}`))));
      });
    const [rank0] = await Promise.all([worker(0), worker(1)]);
    const accuracy = Number(/training accuracy ([0-9.]+)/.exec(rank0)?.[1]);
    expect(accuracy).toBeGreaterThan(0.9);

    const trainer = await compile(spec);
    const info = await loadCheckpoint(trainer, readFileSync(saved));
    expect(info.step).toBeGreaterThan(0);
    expect(trainer.getWeights()['hidden.weight']!.shape).toEqual([10, 4]);
  }, 120_000);
});
