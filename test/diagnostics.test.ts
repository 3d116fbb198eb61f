// Gradient-flow telemetry: off it leaves the .wasm byte for byte as it was; on, each step's
// norms and activation statistics agree with values computed independently in float64.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../compiler/cli/main.ts';
import { compile, compileToWasm } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { randomClasses, randomMatrix } from './support/data.ts';

const spec = {
  name: 'telemetry',
  input: { shape: [3] },
  layers: [
    { type: 'dense', name: 'hidden', units: 4, activation: 'relu' },
    { type: 'dense', name: 'squash', units: 3, activation: 'sigmoid' },
    { type: 'dense', name: 'out', units: 2, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  optimizer: { type: 'sgd', learningRate: 0.2 },
  batchSize: 6,
  seed: 9,
};
const x = randomMatrix(6, 3, 31, 1);
const y = randomClasses(6, 2, 32);

const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, a) => s + a * a, 0));

/** act(a · Wᵀ + b), row by row, in float64. */
function dense(a: number[][], w: ArrayLike<number>, b: ArrayLike<number>, act: (z: number) => number): number[][] {
  const units = b.length;
  return a.map((row) => Array.from({ length: units }, (_, j) => act(row.reduce((s, v, k) => s + v * w[j * row.length + k]!, b[j]!))));
}

describe('telemetry off', () => {
  it('is literally the same wasm', async () => {
    const plain = await compileToWasm(spec);
    const off = await compileToWasm(spec, { diagnostics: false });
    const on = await compileToWasm(spec, { diagnostics: true });
    expect(Buffer.from(off.wasm).equals(Buffer.from(plain.wasm))).toBe(true);
    expect(plain.source).not.toContain('diagnostics_collect');
    expect(plain.manifest.diagnostics).toBeUndefined();
    expect(Buffer.from(on.wasm).equals(Buffer.from(plain.wasm))).toBe(false);
    // Only the guarded step calls the collector. The update norm compares each new weight with
    // the old one, so with telemetry on the trained parameters' new values keep buffers of their
    // own: train_step copies them in at the end instead of writing them in place.
    const body = (source: string): string => {
      const start = source.indexOf('export function train_step(');
      return source.slice(start, source.indexOf('\n}\n', start));
    };
    expect(body(on.source)).not.toContain('diagnostics_collect');
    // The copies are rows of the COMMITS table, which train_step walks through commit_copies().
    const copied = (source: string): string[] => {
      if (!body(source).includes('commit_copies();')) return [];
      const start = source.indexOf('const COMMITS = ');
      return [...source.slice(start, source.indexOf(']);', start)).matchAll(/^ {2}\d+, \d+, \d+, \/\/ (.+)$/gm)].map((m) => m[1]!);
    };
    expect(copied(plain.source)).toEqual([]);
    expect(copied(on.source)).toEqual(on.manifest.buffers.grads.map((g) => g.name));
    expect(on.source).toContain('diagnostics_collect(n);');
  });
});

describe('telemetry on', () => {
  it('reports each step: gradient, weight and update norms, activation statistics', async () => {
    const trainer = await compile(spec, { diagnostics: true });
    expect(trainer.lastDiagnostics()).toBeUndefined();
    const w = Object.fromEntries(Object.entries(trainer.getWeights()).map(([k, t]) => [k, Array.from(t.data)]));
    // One unit of the relu layer dead for every row; the sigmoid layer driven into saturation.
    w['hidden.bias']![1] = -100;
    w['squash.weight'] = w['squash.weight']!.map((v) => 40 * v);
    trainer.setWeights(Object.fromEntries(Object.entries(w).map(([k, v]) => [k, Float64Array.from(v)])));
    const { grads } = trainer.gradients(x, y);
    trainer.trainStep(x, y);
    const d = trainer.lastDiagnostics()!;

    for (const [name, values] of Object.entries(w)) {
      const p = d.params[name]!;
      expect(p.gradNorm, name).toBeCloseTo(norm(grads[name]!.data), 5);
      expect(p.weightNorm, name).toBeCloseTo(norm(values.map(Math.fround)), 4);
      // SGD: ‖Δw‖ = η‖g‖, up to float32 rounding of w_new − w (large weights, small steps).
      if (p.weightNorm > 0) expect(p.updateRatio / ((0.2 * p.gradNorm) / p.weightNorm), name).toBeCloseTo(1, 2);
      else expect(p.updateRatio, `${name} starts at zero`).toBe(p.gradNorm > 0 ? Infinity : 0);
    }

    const relu = dense(x, w['hidden.weight']!, w['hidden.bias']!, (z) => Math.max(z, 0));
    const flat = relu.flat();
    const mean = flat.reduce((s, v) => s + v, 0) / flat.length;
    expect(d.layers['hidden']!.mean).toBeCloseTo(mean, 5);
    expect(d.layers['hidden']!.std).toBeCloseTo(Math.sqrt(flat.reduce((s, v) => s + (v - mean) ** 2, 0) / flat.length), 5);
    const deadUnits = [0, 1, 2, 3].filter((j) => relu.every((row) => row[j]! <= 0)).length;
    expect(deadUnits).toBeGreaterThanOrEqual(1);
    expect(d.layers['hidden']!.deadFraction).toBe(deadUnits / 4);
    expect(d.layers['hidden']!.saturatedFraction).toBeUndefined();

    const squash = dense(relu, w['squash.weight']!, w['squash.bias']!, (z) => 1 / (1 + Math.exp(-z))).flat();
    const saturated = squash.filter((v) => v < 0.01 || v > 0.99).length / squash.length;
    expect(saturated).toBeGreaterThan(0);
    expect(d.layers['squash']!.saturatedFraction).toBeCloseTo(saturated, 6);
    expect(d.layers['squash']!.deadFraction).toBeUndefined();
    expect(d.layers['out']).toMatchObject({ activation: 'softmax' });
  });

  it('agrees with the float64 interpreter’s telemetry, step by step', async () => {
    const trainer = await compile(spec, { diagnostics: true });
    const reference = interpret(spec, { diagnostics: true });
    reference.setWeights(trainer.getWeights());
    for (let step = 0; step < 3; step++) {
      trainer.trainStep(x, y);
      reference.trainStep(x, y);
      const [a, b] = [trainer.lastDiagnostics()!, reference.lastDiagnostics()!];
      for (const [name, p] of Object.entries(b.params)) {
        expect(a.params[name]!.gradNorm, name).toBeCloseTo(p.gradNorm, 5);
        expect(a.params[name]!.weightNorm, name).toBeCloseTo(p.weightNorm, 4);
        if (Number.isFinite(p.updateRatio)) expect(a.params[name]!.updateRatio / p.updateRatio, name).toBeCloseTo(1, 2);
      }
      for (const [name, l] of Object.entries(b.layers)) {
        expect(a.layers[name]!.mean, name).toBeCloseTo(l.mean, 5);
        expect(a.layers[name]!.std, name).toBeCloseTo(l.std, 5);
        expect(a.layers[name]!.deadFraction, name).toBe(l.deadFraction);
        expect(a.layers[name]!.saturatedFraction, name).toBe(l.saturatedFraction);
      }
    }
  });

  it('appears in fit history as per-epoch means', async () => {
    const trainer = await compile(spec, { diagnostics: true });
    const history = trainer.fit({ x, y }, { epochs: 3, batchSize: 3 });
    for (const epoch of history.epochs) {
      expect(Object.keys(epoch.diagnostics!.params)).toEqual(['hidden.weight', 'hidden.bias', 'squash.weight', 'squash.bias', 'out.weight', 'out.bias']);
      expect(Object.keys(epoch.diagnostics!.layers)).toEqual(['hidden', 'squash', 'out']);
      for (const p of Object.values(epoch.diagnostics!.params)) expect(p.gradNorm).toBeGreaterThan(0);
    }
    const plain = await compile(spec);
    expect(plain.fit({ x, y }, { epochs: 1 }).epochs[0]!.diagnostics).toBeUndefined();
  });
});

describe('telemetry with a training pass', () => {
  it('reads batch norm and dropout layers from the training pass, as the interpreter does', async () => {
    const bn = {
      ...spec,
      layers: [
        { type: 'dense', name: 'hidden', units: 5, activation: 'tanh' },
        { type: 'batch_normalization', name: 'bn' },
        { type: 'dropout', name: 'drop', rate: 0.5 },
        { type: 'dense', name: 'out', units: 2, activation: 'softmax' },
      ],
    };
    const trainer = await compile(bn, { diagnostics: true });
    const reference = interpret(bn, { diagnostics: true });
    for (let step = 0; step < 2; step++) {
      trainer.trainStep(x, y);
      reference.trainStep(x, y);
    }
    const [a, b] = [trainer.lastDiagnostics()!, reference.lastDiagnostics()!];
    expect(Object.keys(a.layers)).toEqual(['hidden', 'bn', 'drop', 'out']);
    expect(Object.keys(a.params)).toEqual(Object.keys(b.params));
    expect(Object.keys(a.params)).not.toContain('bn.running_var');
    // Batch statistics: the training pass's bn output has mean 0 and std about 1 (γ = 1, β = 0 at first).
    expect(Math.abs(a.layers['bn']!.mean)).toBeLessThan(0.05);
    for (const [name, l] of Object.entries(b.layers)) {
      expect(a.layers[name]!.mean, name).toBeCloseTo(l.mean, 4);
      expect(a.layers[name]!.std, name).toBeCloseTo(l.std, 4);
    }
    for (const [name, p] of Object.entries(b.params)) expect(a.params[name]!.gradNorm, name).toBeCloseTo(p.gradNorm, 4);
  });
});

describe('nabla compile --diagnostics', () => {
  it('compiles telemetry in, and inspect says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nabla-diagnostics-'));
    writeFileSync(join(dir, 'm.json'), JSON.stringify(spec));
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    expect(await main(['compile', join(dir, 'm.json'), '--diagnostics', '-o', join(dir, 'on.wasm')], io)).toBe(0);
    expect(await main(['compile', join(dir, 'm.json'), '-o', join(dir, 'off.wasm')], io)).toBe(0);
    expect(await main(['inspect', join(dir, 'on.wasm')], io)).toBe(0);
    expect(await main(['inspect', join(dir, 'off.wasm')], io)).toBe(0);
    expect(lines).toContain('telemetry     compiled in: 6 parameters, 3 layers');
    expect(lines).toContain('telemetry     off (compile with diagnostics to add it)');
    expect(lines).toContain('guard         train_step_checked checks 13 tensors (loss, gradients, new weights and state)');
  });
});
