// Acceptance 3: each optimizer matches a float64 reference implementation of its published
// update rule (Keras 3's formulas) over 10 steps: the interpreter to rounding, the compiled
// trainer within 1e-5 relative. The reference takes its gradients from a separate interpreter
// (verified against finite differences elsewhere) and applies the rule in plain JavaScript.
import { describe, expect, it } from 'vitest';
import { compile, compileToWasm } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { relativeDifference } from '../compiler/gradcheck/numerical.ts';
import { optimizerBatch, optimizerModel } from './support/optimizer-model.ts';

type Weights = Record<string, Float64Array>;

interface Config {
  readonly type: 'sgd' | 'rmsprop' | 'adam' | 'adamw';
  readonly learningRate: number;
  readonly momentum?: number;
  readonly nesterov?: boolean;
  readonly rho?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  readonly weightDecay?: number;
  readonly l2?: number;
  readonly clipNorm?: number;
  readonly clipValue?: number;
  readonly schedule?:
    | { readonly type: 'step'; readonly stepSize: number; readonly gamma: number }
    | { readonly type: 'exponential'; readonly decaySteps: number; readonly decayRate: number; readonly staircase?: boolean }
    | { readonly type: 'cosine'; readonly decaySteps: number; readonly alpha?: number };
}

const spec = optimizerModel;
const { x, y } = optimizerBatch;

/** Learning rate after t steps, from the schedules' published definitions. */
function rateAt(c: Config, t: number): number {
  const s = c.schedule;
  if (!s) return c.learningRate;
  switch (s.type) {
    case 'step':
      return c.learningRate * s.gamma ** Math.floor(t / s.stepSize);
    case 'exponential':
      return c.learningRate * s.decayRate ** (s.staircase ? Math.floor(t / s.decaySteps) : t / s.decaySteps);
    case 'cosine': {
      const alpha = s.alpha ?? 0;
      return c.learningRate * (alpha + (1 - alpha) * 0.5 * (1 + Math.cos((Math.PI * Math.min(t, s.decaySteps)) / s.decaySteps)));
    }
  }
}

/** The reference: 10 steps of the rule in float64. Also reports whether clipping changed anything. */
function reference(c: Config, w0: Weights, steps: number): { weights: Weights; clipped: boolean } {
  const gradModel = interpret(spec({ type: 'sgd', learningRate: 0.01 }));
  const w: Weights = Object.fromEntries(Object.entries(w0).map(([k, v]) => [k, v.slice()]));
  const slots = new Map<string, Float64Array>();
  const slot = (name: string, size: number): Float64Array => {
    if (!slots.has(name)) slots.set(name, new Float64Array(size));
    return slots.get(name)!;
  };
  let clipped = false;
  for (let t = 0; t < steps; t++) {
    gradModel.setWeights(w);
    const raw = gradModel.gradients(x, y).grads;
    const g: Weights = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Float64Array.from(v.data)]));
    if (c.clipValue !== undefined) {
      for (const v of Object.values(g)) v.forEach((e, i) => (v[i] = Math.min(Math.max(e, -c.clipValue!), c.clipValue!)));
      clipped ||= Object.values(raw).some((v) => v.data.some((e) => Math.abs(e) > c.clipValue!));
    }
    if (c.clipNorm !== undefined) {
      const norm = Math.sqrt(Object.values(g).reduce((acc, v) => acc + v.reduce((a, e) => a + e * e, 0), 0));
      const scale = c.clipNorm / Math.max(norm, c.clipNorm);
      for (const v of Object.values(g)) v.forEach((e, i) => (v[i] = e * scale));
      clipped ||= norm > c.clipNorm;
    }
    const lr = rateAt(c, t);
    for (const [name, wv] of Object.entries(w)) {
      const gv = g[name]!;
      if (c.l2) gv.forEach((e, i) => (gv[i] = e + c.l2! * wv[i]!));
      const n = wv.length;
      switch (c.type) {
        case 'sgd': {
          const mu = c.momentum ?? 0;
          if (mu === 0) {
            for (let i = 0; i < n; i++) wv[i]! -= lr * gv[i]!;
            break;
          }
          const v = slot(`v:${name}`, n);
          for (let i = 0; i < n; i++) {
            v[i] = mu * v[i]! - lr * gv[i]!;
            wv[i]! += c.nesterov ? mu * v[i]! - lr * gv[i]! : v[i]!;
          }
          break;
        }
        case 'rmsprop': {
          const rho = c.rho ?? 0.9;
          const v = slot(`v:${name}`, n);
          for (let i = 0; i < n; i++) {
            v[i] = rho * v[i]! + (1 - rho) * gv[i]! ** 2;
            wv[i]! -= (lr * gv[i]!) / Math.sqrt(v[i]! + (c.epsilon ?? 1e-7));
          }
          break;
        }
        case 'adam':
        case 'adamw': {
          const [b1, b2, eps] = [c.beta1 ?? 0.9, c.beta2 ?? 0.999, c.epsilon ?? 1e-7];
          const m = slot(`m:${name}`, n);
          const v = slot(`v:${name}`, n);
          const k = t + 1;
          const alpha = (lr * Math.sqrt(1 - b2 ** k)) / (1 - b1 ** k);
          for (let i = 0; i < n; i++) {
            m[i] = m[i]! + (gv[i]! - m[i]!) * (1 - b1);
            v[i] = v[i]! + (gv[i]! ** 2 - v[i]!) * (1 - b2);
            if (c.type === 'adamw') wv[i]! -= lr * (c.weightDecay ?? 0.004) * wv[i]!;
            wv[i]! -= (alpha * m[i]!) / (Math.sqrt(v[i]!) + eps);
          }
          break;
        }
      }
    }
  }
  return { weights: w, clipped };
}

const flat = (w: Weights | Record<string, { data: ArrayLike<number> }>): number[] =>
  Object.keys(w)
    .sort()
    .flatMap((k) => {
      const v = w[k]!;
      return Array.from(v instanceof Float64Array ? v : (v as { data: ArrayLike<number> }).data);
    });

const CASES: readonly [string, Config, boolean?][] = [
  ['sgd', { type: 'sgd', learningRate: 0.1 }],
  ['sgd momentum 0.9', { type: 'sgd', learningRate: 0.05, momentum: 0.9 }],
  ['sgd Nesterov 0.9', { type: 'sgd', learningRate: 0.05, momentum: 0.9, nesterov: true }],
  ['rmsprop', { type: 'rmsprop', learningRate: 0.01 }],
  ['adam', { type: 'adam', learningRate: 0.01 }],
  ['adam β (0.8, 0.99), ε 1e-3', { type: 'adam', learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 1e-3 }],
  ['adamw weight decay 0.1', { type: 'adamw', learningRate: 0.01, weightDecay: 0.1 }],
  ['sgd L2 0.05', { type: 'sgd', learningRate: 0.1, l2: 0.05 }],
  ['adam L2 0.01', { type: 'adam', learningRate: 0.01, l2: 0.01 }],
  ['sgd, step schedule', { type: 'sgd', learningRate: 0.1, schedule: { type: 'step', stepSize: 3, gamma: 0.5 } }],
  ['adam, exponential schedule', { type: 'adam', learningRate: 0.01, schedule: { type: 'exponential', decaySteps: 4, decayRate: 0.3 } }],
  ['sgd momentum, staircase exponential', { type: 'sgd', learningRate: 0.1, momentum: 0.5, schedule: { type: 'exponential', decaySteps: 4, decayRate: 0.3, staircase: true } }],
  ['rmsprop, cosine schedule past its end', { type: 'rmsprop', learningRate: 0.01, schedule: { type: 'cosine', decaySteps: 6, alpha: 0.1 } }],
  ['sgd, clip by global norm (triggers)', { type: 'sgd', learningRate: 0.1, clipNorm: 0.05 }, true],
  ['sgd, clip by global norm (does not trigger)', { type: 'sgd', learningRate: 0.1, clipNorm: 1000 }, false],
  ['adam, clip by value (triggers)', { type: 'adam', learningRate: 0.01, clipValue: 0.02 }, true],
  ['sgd, clip by value (does not trigger)', { type: 'sgd', learningRate: 0.1, clipValue: 1000 }, false],
];

describe.each(CASES)('%s', (_name, config, triggers) => {
  it('matches the float64 reference over 10 steps, interpreted and compiled', async () => {
    const trainer = await compile(spec(config));
    const interpreter = interpret(spec(config));
    const w0 = Object.fromEntries(Object.entries(trainer.getWeights()).map(([k, v]) => [k, Float64Array.from(v.data)]));
    interpreter.setWeights(w0);
    const { weights, clipped } = reference(config, w0, 10);
    if (triggers !== undefined) expect(clipped, 'whether clipping changed the gradients').toBe(triggers);
    for (let s = 0; s < 10; s++) {
      trainer.trainStep(x, y);
      interpreter.trainStep(x, y);
    }
    const expected = flat(weights);
    // The weights moved: the comparison is not of two copies of the start.
    expect(relativeDifference(expected, flat(w0))).toBeGreaterThan(1e-3);
    expect(relativeDifference(flat(interpreter.getWeights()), expected), 'interpreter').toBeLessThan(1e-12);
    expect(relativeDifference(flat(trainer.getWeights()), expected), 'compiled').toBeLessThan(1e-5);
  });
});

describe('optimizer state', () => {
  it('lives in the arena, is listed in the manifest, and init() zeroes it (and restores the learning rate)', async () => {
    const { manifest } = await compileToWasm(spec({ type: 'adam', learningRate: 0.01 }));
    expect(manifest.buffers.state.map((s) => s.name)).toEqual([
      'optimizer:step',
      'optimizer:learning_rate',
      'm:hidden.weight',
      'v:hidden.weight',
      'm:hidden.bias',
      'v:hidden.bias',
      'm:out.weight',
      'v:out.weight',
      'm:out.bias',
      'v:out.bias',
    ]);
    expect(manifest.buffers.state.find((s) => s.name === 'v:hidden.weight')!.bytes).toBe(4 * 3 * 4);
    const trainer = await compile(spec({ type: 'adam', learningRate: 0.01 }));
    for (let s = 0; s < 3; s++) trainer.trainStep(x, y);
    expect(Array.from(trainer.views.state['optimizer:step']!)).toEqual([3]);
    expect(trainer.views.state['m:out.bias']!.some((v) => v !== 0)).toBe(true);
    trainer.learningRate = 0.5;
    trainer.init(21);
    for (const [name, view] of Object.entries(trainer.views.state)) {
      if (name !== 'optimizer:learning_rate') expect(view.every((v) => v === 0), name).toBe(true);
    }
    expect(trainer.learningRate).toBe(Math.fround(0.01));
  });

  it('plain SGD keeps only its learning rate, a hyperparameter the manifest lists', async () => {
    const { manifest } = await compileToWasm(spec({ type: 'sgd', learningRate: 0.01 }));
    expect(manifest.buffers.state.map((s) => [s.name, s.bytes])).toEqual([['optimizer:learning_rate', 4]]);
    expect(manifest.hyperparameters).toEqual([{ name: 'learningRate', state: 'optimizer:learning_rate', initial: 0.01 }]);
  });
});
