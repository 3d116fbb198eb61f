// nabla gradcheck: every example model checks out; a deliberately broken vjp is caught, with a
// non-zero exit, and the report points at the tensors it corrupts; large models are sampled.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../compiler/cli/main.ts';
import { gradcheck } from '../compiler/gradcheck/gradcheck.ts';
import { verdictOf } from '../compiler/gradcheck/compare.ts';
import { tanh } from '../compiler/ops/activations.ts';
import { elementwise } from '../compiler/ops/elementwise.ts';
import { substituteOps } from '../compiler/ops/registry.ts';
import { InputError } from '../runtime/errors.ts';
import { compile } from '../compiler/compile.ts';
import { saveCheckpoint } from '../runtime/checkpoint.ts';
import { oneHot, randomClasses, randomMatrix } from './support/data.ts';

/** Every model spec under examples/: JSON files with `layers` (Sequential) or `nodes` (graph form). */
function exampleModels(): string[] {
  const root = new URL('../examples/', import.meta.url).pathname;
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(root, f))
    .filter((path) => {
      const json = JSON.parse(readFileSync(path, 'utf8')) as object;
      return 'layers' in json || 'nodes' in json;
    });
}

type LayerLike = { readonly type: string; readonly name?: string; readonly inputs?: readonly string[] };
type SpecLike = { readonly batchSize?: number; readonly layers?: readonly LayerLike[]; readonly nodes?: readonly LayerLike[] };

/**
 * The dense layers whose every reader is batch normalization: their bias is subtracted again by
 * the batch mean, so its gradient is exactly zero (the one zero gradient an example may have).
 */
function biasesBeforeBatchNorm(spec: SpecLike): string[] {
  const list = spec.nodes ?? spec.layers ?? [];
  const readers = (k: number): LayerLike[] =>
    spec.nodes ? list.filter((n) => n.inputs?.includes(list[k]!.name!)) : list.slice(k + 1, k + 2);
  return list.flatMap((l, k) => {
    const next = readers(k);
    return l.type === 'dense' && next.length > 0 && next.every((n) => n.type === 'batch_normalization') ? [`${l.name}.bias`] : [];
  });
}

function capture(): { out: string[]; err: string[]; io: { out: (l: string) => void; err: (l: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l) } };
}

/** tanh with the derivative of 1 − tanh instead of 1 − tanh²: a plausible slip. */
const brokenTanh = elementwise({
  name: 'tanh',
  arity: 1,
  f64: Math.tanh,
  scalar: (x) => `Mathf.tanh(${x})`,
  vjp: (b, { g, out }) => [b.op('mul', [g, b.op('sub', [b.constant(1), out])])],
});

const tanhModel = {
  name: 'tanh_mlp',
  input: { shape: [4] },
  layers: [
    { type: 'dense', name: 'hidden', units: 6, activation: 'tanh' },
    { type: 'dense', name: 'out', units: 2 },
  ],
  loss: { type: 'mse' },
  batchSize: 8,
  seed: 7,
};

describe('verdicts', () => {
  it('follow the scale: ≤ 1e-7 excellent, ≤ 1e-5 acceptable, ≥ 1e-3 likely a bug', () => {
    expect([1e-9, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.5, NaN].map(verdictOf)).toEqual([
      'excellent',
      'excellent',
      'acceptable',
      'acceptable',
      'doubtful',
      'likely a bug',
      'likely a bug',
      'likely a bug',
    ]);
  });
});

describe('gradcheck on every example model', () => {
  const models = exampleModels();
  it('finds the example models, Sequential and graph form', () => {
    expect(models.length).toBeGreaterThanOrEqual(7);
    for (const name of ['seed', 'iris', 'browser', 'wide-deep', 'multi-output', 'residual-digits']) {
      expect(models.some((m) => m.includes(`/examples/${name}/`)), name).toBe(true);
    }
  });

  // At most 4 rows and 10 sampled elements per tensor keep the largest (residual-digits, 21,962
  // parameters; the words transformer) to seconds; `nabla gradcheck` defaults to the batch size and 100.
  it.each(models)('%s', async (path) => {
    const spec = JSON.parse(readFileSync(path, 'utf8')) as SpecLike;
    const report = await gradcheck(spec, { batch: Math.min(4, spec.batchSize ?? 32), sample: 10 });
    expect(report.overall['interpreted-vs-numerical'].verdict).toBe('excellent');
    expect(report.overall['compiled-vs-interpreted'].relativeDifference).toBeLessThan(1e-5);
    expect(report.failed).toBe(false);
    // Per tensor too: a zero gradient is judged against the model's gradient norm, and only a bias
    // read by batch norm alone may have one.
    for (const t of report.tensors) {
      expect(t.pairs['interpreted-vs-numerical'].verdict, t.name).toBe('excellent');
      expect(t.pairs['compiled-vs-interpreted'].relativeDifference, t.name).toBeLessThan(1e-5);
    }
    expect(report.tensors.filter((t) => t.zero).map((t) => t.name)).toEqual(biasesBeforeBatchNorm(spec));
    // The convolutional example compiles for about 25 s (each layer's GEMMs are specialised).
  }, 240_000);
});

describe('a broken vjp', () => {
  it('is caught at ≥ 1e-3 in the tensors before the broken op, and only there', async () => {
    const report = await substituteOps([brokenTanh], () => gradcheck(tanhModel));
    expect(report.failed).toBe(true);
    const byName = Object.fromEntries(report.tensors.map((t) => [t.name, t]));
    for (const name of ['hidden.weight', 'hidden.bias']) {
      expect(byName[name]!.pairs['interpreted-vs-numerical'].relativeDifference, name).toBeGreaterThanOrEqual(1e-3);
      expect(byName[name]!.verdict).toBe('likely a bug');
    }
    // The layer after the tanh does not depend on its derivative: still exact.
    for (const name of ['out.weight', 'out.bias']) expect(byName[name]!.verdict, name).not.toBe('likely a bug');
    // The compiled trainer runs the same broken backward graph: it agrees with the interpreter.
    expect(report.overall['compiled-vs-interpreted'].relativeDifference).toBeLessThan(1e-5);
    expect(report.overall['interpreted-vs-numerical'].worst!.tensor).toMatch(/^hidden\./);
  });

  it('makes `nabla gradcheck` exit non-zero naming the tensors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nabla-gradcheck-'));
    const path = join(dir, 'tanh.json');
    writeFileSync(path, JSON.stringify(tanhModel));
    const { out, err, io } = capture();
    const code = await substituteOps([brokenTanh], () => main(['gradcheck', path], io));
    expect(code).toBe(1);
    expect(out.join('\n')).toMatch(/verdict {4}likely a bug in hidden\.weight, hidden\.bias/);
    expect(err).toEqual(['nabla: gradcheck: relative difference ≥ 1e-3 (likely a bug) in hidden.weight, hidden.bias']);
  });

  it('leaves the op table as it was', async () => {
    await expect(substituteOps([brokenTanh], () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const report = await gradcheck(tanhModel);
    expect(report.failed).toBe(false);
    expect(tanh.vjp).not.toBe(brokenTanh.vjp);
  });

  it('substitutes only existing ops of the same arity', async () => {
    await expect(substituteOps([{ ...brokenTanh, name: 'tanh2' }], () => 0)).rejects.toThrow("'tanh2' is not an op of the table");
    await expect(substituteOps([{ ...brokenTanh, arity: 2 }], () => 0)).rejects.toThrow("'tanh' takes 1 inputs, the substitute 2");
  });
});

describe('sampling and options', () => {
  const wide = {
    name: 'wide',
    input: { shape: [30] },
    layers: [
      { type: 'dense', name: 'hidden', units: 40, activation: 'relu' },
      { type: 'dense', name: 'out', units: 3, activation: 'softmax' },
    ],
    loss: { type: 'sparse_categorical_crossentropy' },
    batchSize: 10,
    seed: 3,
  };

  it('samples 100 elements of large tensors, and says so', async () => {
    const report = await gradcheck(wide);
    expect(report.sampled).toBe(true);
    expect(report.tensors.map((t) => [t.name, t.checked, t.elements])).toEqual([
      ['hidden.weight', 100, 1200],
      ['hidden.bias', 40, 40],
      ['out.weight', 100, 120],
      ['out.bias', 3, 3],
    ]);
    expect(report.overall['interpreted-vs-numerical'].verdict).toBe('excellent');
    const { out, io } = capture();
    expect(await main(['gradcheck', writeSpec(wide), '--batch', '4'], io)).toBe(0);
    expect(out.join('\n')).toContain('sampled 243 of 1,363 elements (seeded; --all checks every one)');
    expect(out.join('\n')).toContain('data       4 rows, seeded random data');
  });

  it('checks every element with all', async () => {
    const report = await gradcheck(wide, { all: true, batch: 3 });
    expect(report.sampled).toBe(false);
    expect(report.overall.checked).toBe(report.overall.elements);
    expect(report.rows).toBe(3);
  });

  it('uses given weights and data', async () => {
    const weights = { 'hidden.weight': [[0.4, 0.1], [0.3, 0.7]], 'hidden.bias': [0.1, 0.2], 'out.weight': [[0.5, 0.6]], 'out.bias': [0.3] };
    const spec = JSON.parse(readFileSync(new URL('../examples/seed/model.json', import.meta.url), 'utf8')) as unknown;
    const report = await gradcheck(spec, { weights, data: { x: [[0.5, 0.2]], y: [[1]] } });
    expect(report.data).toBe('given');
    // The seed's worked example: d loss / d out.bias = (ŷ − y) · ŷ(1 − ŷ) with ŷ = 0.7234672.
    const y = 0.72346721;
    const outBias = report.tensors.find((t) => t.name === 'out.bias')!.pairs['interpreted-vs-numerical'].worst!;
    expect(outBias.interpreted).toBeCloseTo((y - 1) * y * (1 - y), 6);
  });

  it('rejects bad options, naming them', async () => {
    await expect(gradcheck(wide, { batch: 11 })).rejects.toThrow(new InputError('gradcheck: batch must be an integer in [1, 10] (the compiled batch size), got 11'));
    await expect(gradcheck(wide, { weights: { nope: [1] } })).rejects.toThrow(/unknown parameter\(s\) 'nope'/);
    const { err, io } = capture();
    expect(await main(['gradcheck', writeSpec(wide), '--batch', 'x'], io)).toBe(2);
    expect(err[0]).toBe("nabla: --batch: expected a positive integer, got 'x'");
  });

  it('differentiates on CSV rows with --data', async () => {
    const { out, io } = capture();
    const args = ['gradcheck', 'examples/iris/binary.json', '--data', 'examples/iris/iris.csv', '--positive-class', 'setosa', '--batch', '10'];
    expect(await main(args, io)).toBe(0);
    expect(out.join('\n')).toContain("data       10 rows, a seeded random pick of examples/iris/iris.csv's 150 rows, features standardised");
    expect(out.join('\n')).toMatch(/verdict {4}excellent/);
  });

  it('prints JSON with --json', async () => {
    const { out, io } = capture();
    expect(await main(['gradcheck', writeSpec(tanhModel), '--json'], io)).toBe(0);
    const report = JSON.parse(out.join('\n')) as { model: string; tensors: unknown[]; failed: boolean };
    expect([report.model, report.tensors.length, report.failed]).toEqual(['tanh_mlp', 4, false]);
  });
});

describe('the merged vocabulary', () => {
  // Batch norm and dropout differ between training and inference: gradcheck differentiates the
  // training pass's loss (batch statistics, this step's dropout mask) in all three ways.
  const normalized = {
    name: 'bn_dropout',
    input: { shape: [5] },
    layers: [
      { type: 'dense', name: 'hidden', units: 6, activation: 'elu' },
      { type: 'batch_normalization', name: 'bn' },
      { type: 'dropout', name: 'drop', rate: 0.3 },
      { type: 'dense', name: 'mid', units: 4, activation: 'gelu' },
      { type: 'layer_normalization', name: 'ln' },
      { type: 'dense', name: 'out', units: 3 },
    ],
    loss: { type: 'categorical_crossentropy', fromLogits: true },
    optimizer: { type: 'adam', learningRate: 0.01 },
    batchSize: 8,
    seed: 11,
  };

  it('checks batch norm, dropout and layer norm through the training loss; running statistics are not differentiated', async () => {
    const report = await gradcheck(normalized);
    expect(report.tensors.map((t) => t.name)).not.toContain('bn.running_mean');
    expect(report.tensors.map((t) => t.name)).toContain('bn.weight');
    expect(report.overall['interpreted-vs-numerical'].relativeDifference).toBeLessThan(1e-7);
    expect(report.overall['compiled-vs-interpreted'].relativeDifference).toBeLessThan(1e-4);
    expect(report.failed).toBe(false);
  });

  it('judges a gradient that is zero up to rounding (a bias right before batch norm) against the model’s, and says so', async () => {
    const beforeBn = {
      name: 'bias_before_bn',
      input: { shape: [5] },
      layers: [
        { type: 'dense', name: 'hidden', units: 6 },
        { type: 'batch_normalization', name: 'bn' },
        { type: 'dense', name: 'out', units: 2 },
      ],
      loss: { type: 'mse' },
      batchSize: 8,
      seed: 4,
    };
    const report = await gradcheck(beforeBn);
    expect(report.tensors.filter((t) => t.zero).map((t) => t.name)).toEqual(['hidden.bias']);
    const bias = report.tensors.find((t) => t.name === 'hidden.bias')!;
    // Against its own norm, the rounding noise of the three ways would differ by about 100 %.
    expect(bias.verdict).not.toBe('likely a bug');
    expect(bias.pairs['interpreted-vs-numerical'].relativeDifference).toBeLessThan(1e-7);
    const { out, io } = capture();
    expect(await main(['gradcheck', writeSpec(beforeBn)], io)).toBe(0);
    expect(out.join('\n')).toContain('note: zero gradient (up to rounding) for hidden.bias');
  });

  it('checks at the weights of a safetensors checkpoint (--weights w.safetensors)', async () => {
    const trainer = await compile(normalized);
    trainer.fit({ x: randomMatrix(16, 5, 4), y: oneHot(randomClasses(16, 3, 5), 3) }, { epochs: 2 });
    const path = join(mkdtempSync(join(tmpdir(), 'nabla-gradcheck-')), 'w.safetensors');
    writeFileSync(path, await saveCheckpoint(trainer));
    const { out, err, io } = capture();
    expect(await main(['gradcheck', writeSpec(normalized), '--weights', path, '--json'], io), err.join('\n')).toBe(0);
    const fromFile = JSON.parse(out.join('\n')) as { loss: { compiled: number } };
    const atInit = await gradcheck(normalized);
    // Trained weights: another loss than at the initial weights, and the same as the trainer's own.
    expect(fromFile.loss.compiled).not.toBeCloseTo(atInit.loss.compiled, 3);
    expect(await main(['gradcheck', writeSpec(normalized), '--weights', join(tmpdir(), 'missing.safetensors')], capture().io)).toBe(1);
  });
});

function writeSpec(spec: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'nabla-gradcheck-')), 'model.json');
  writeFileSync(path, JSON.stringify(spec));
  return path;
}
