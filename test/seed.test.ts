// Acceptance 1: the seed's worked example, 2-2-1 sigmoid network, L = ½(a₂ − y)².
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';

const spec: unknown = JSON.parse(readFileSync(new URL('../examples/seed/model.json', import.meta.url), 'utf8'));
const weights = {
  'hidden.weight': [[0.4, 0.1], [0.3, 0.7]],
  'hidden.bias': [0.1, 0.2],
  'out.weight': [[0.5, 0.6]],
  'out.bias': [0.3],
};
const x = [[0.5, 0.2]];
const y = [1];
const expected = {
  output: 0.72346724,
  'hidden.weight': [-0.00337071, -0.00134828, -0.00390986, -0.00156394],
  'out.weight': [-0.03205042, -0.03430665],
};

function expectClose(actual: ArrayLike<number>, wanted: readonly number[], tolerance: number): void {
  expect(actual.length).toBe(wanted.length);
  wanted.forEach((w, i) => expect(Math.abs(actual[i]! - w), `element ${i}: ${actual[i]} vs ${w}`).toBeLessThanOrEqual(tolerance));
}

describe('seed worked example', () => {
  // The published figures have 8 decimals, so they carry up to 5e-9 of rounding themselves.
  it('interpreted: output and gradients within 1e-9 of the worked example (after its rounding)', () => {
    const model = interpret(spec);
    model.setWeights(weights);
    expectClose(model.predict(x).data, [expected.output], 1e-9 + 5e-9);
    const { grads } = model.gradients(x, y);
    expectClose(grads['hidden.weight']!.data, expected['hidden.weight'], 1e-9 + 5e-9);
    expectClose(grads['out.weight']!.data, expected['out.weight'], 1e-9 + 5e-9);
    expect(grads['hidden.weight']!.shape).toEqual([2, 2]);
    expect(grads['out.weight']!.shape).toEqual([1, 2]);
  });

  it('compiled: output and gradients within 1e-6', async () => {
    const trainer = await compile(spec);
    trainer.setWeights(weights);
    expectClose(trainer.predict(x).data, [expected.output], 1e-6);
    const { loss, grads } = trainer.gradients(x, y);
    expect(loss).toBeCloseTo(0.5 * (expected.output - 1) ** 2, 6);
    expectClose(grads['hidden.weight']!.data, expected['hidden.weight'], 1e-6);
    expectClose(grads['out.weight']!.data, expected['out.weight'], 1e-6);
  });

  it('one SGD step (lr 0.1) moves each weight by −0.1 × its gradient', async () => {
    const trainer = await compile(spec);
    trainer.setWeights(weights);
    trainer.trainStep(x, y);
    const after = trainer.getWeights();
    expectClose(after['hidden.weight']!.data, weights['hidden.weight'].flat().map((w, i) => w - 0.1 * expected['hidden.weight'][i]!), 1e-6);
    expectClose(after['out.weight']!.data, weights['out.weight'].flat().map((w, i) => w - 0.1 * expected['out.weight'][i]!), 1e-6);
  });
});
