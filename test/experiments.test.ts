// The gradient experiments of examples/gradients/, checked: the deep linear network follows s^L
// to float32 rounding; in the deep MLP the first layer's gradient vanishes with sigmoid + Glorot
// and reaches the first layer with tanh + Glorot, relu + He, elu and selu + LeCun; relu + N(0, 1)
// explodes. Batch norm and residual connections bring the vanishing gradient back; clipping by
// global norm tames the exploding one.
import { describe, expect, it } from 'vitest';
import { deepLinear, expected } from '../examples/gradients/deep-linear.ts';
import { CASES, DEPTH, firstToLast, runCase } from '../examples/gradients/deep-init.ts';
import { clippingCase, sigmoidCase } from '../examples/gradients/deep-fixes.ts';

describe('deep linear network, W = s·I', () => {
  it.each([
    [1.5, 5],
    [1.5, 30],
    [1.5, 50],
    [0.5, 5],
    [0.5, 30],
    [0.5, 50],
  ])('s = %f, L = %i: output s^L, first-layer gradient 2·s^(2L−1)', async (s, L) => {
    const r = await deepLinear(s, L);
    // Each of the ~2L float32 products rounds by at most 2^-24.
    const tolerance = 2 * L * 2 ** -24;
    expect(Math.abs(r.output / expected.output(s, L) - 1)).toBeLessThanOrEqual(tolerance);
    expect(Math.abs(r.firstGradient / expected.firstGradient(s, L) - 1)).toBeLessThanOrEqual(tolerance);
    expect(Math.abs(r.backwardGain / expected.backwardGain(s, L) - 1)).toBeLessThanOrEqual(tolerance);
  });
});

describe('deep MLP, 10 × 64, at initialisation', () => {
  const byName = (name: string) => CASES.find((c) => c.name === name)!;

  it('sigmoid with Glorot: the first layer gets < 1/100 of the output layer’s gradient', async () => {
    const r = await runCase(byName('sigmoid, Glorot'));
    expect(firstToLast(r.atInit)).toBeLessThan(1e-2);
  });

  it.each(['tanh, Glorot', 'relu, He', 'elu, LeCun', 'selu, LeCun'])('%s: within 10× of the output layer', async (name) => {
    const r = await runCase(byName(name));
    expect(firstToLast(r.atInit)).toBeGreaterThan(0.1);
    expect(firstToLast(r.atInit)).toBeLessThan(10);
    expect(r.lossAfterEpoch).toBeLessThan(r.lossAtInit);
  });

  it('relu with N(0, 1): gradients explode and the non-finite guard stops the epoch', async () => {
    const r = await runCase(byName('relu, N(0, 1)'));
    expect(Math.min(...r.atInit)).toBeGreaterThan(1e6);
    expect(r.stopped).toMatch(/^non-finite value at step \d+ \(epoch 1, batch \d+ of 16\)/);
  });
});

describe('deep MLP fixes', () => {
  it('batch normalization: the first layer of the sigmoid net gets a gradient of the output layer’s order, and it learns', async () => {
    const [plain, normalized] = [await sigmoidCase('none', 2), await sigmoidCase('batch norm', 2)];
    expect(firstToLast(plain.atInit)).toBeLessThan(1e-5);
    expect(firstToLast(normalized.atInit)).toBeGreaterThan(0.1);
    // Without it the loss barely moves in two epochs; with it, it drops by more than a quarter.
    expect(plain.epochLosses[1]!).toBeGreaterThan(0.95 * plain.lossAtInit);
    expect(normalized.epochLosses[1]!).toBeLessThan(0.75 * normalized.lossAtInit);
  });

  it('residual connections: the identity paths carry the gradient down to the first layer of the sigmoid net', async () => {
    // The same weights (same seed and layer names) with and without the skips: only the adds differ.
    const [plain, residual] = [await sigmoidCase('none', 0), await sigmoidCase('residual', 2)];
    // Measured: 7.35e-7 plain, 8.04e-3 with skips (×1.1e4); without the adds the two are equal.
    expect(firstToLast(residual.atInit)).toBeGreaterThan(1000 * firstToLast(plain.atInit));
    // The first layer itself: 4.96e-7 plain, 0.31 with skips.
    expect(residual.atInit[0]!).toBeGreaterThan(1e5 * plain.atInit[0]!);
    // Every hidden layer gets a gradient within 100× of the first's: no geometric decay through the stack.
    const hidden = residual.atInit.slice(0, -1);
    expect(Math.max(...hidden) / Math.min(...hidden)).toBeLessThan(100);
    expect(plain.atInit[DEPTH - 1]! / plain.atInit[0]!).toBeGreaterThan(1e5);
    // The scale they do not fix: sums of positive sigmoid outputs make the output layer start
    // over-confident (6.54 against 1.435), with a large gradient (38.7 against 0.675); two epochs
    // bring the loss down (22.2 → 5.31) but not to the plain network's loss at initialisation.
    expect(residual.lossAtInit).toBeGreaterThan(3 * plain.lossAtInit);
    expect(residual.atInit[DEPTH]!).toBeGreaterThan(10 * plain.atInit[DEPTH]!);
    expect(residual.epochLosses[1]!).toBeLessThan(residual.epochLosses[0]!);
    expect(residual.epochLosses[1]!).toBeGreaterThan(plain.lossAtInit);
  });

  it('gradient clipping: SGD at lr 1 explodes until the guard stops it; clipNorm 1 trains', async () => {
    const [wild, clipped] = [await clippingCase(undefined, 1), await clippingCase(1, 1)];
    expect(wild.stopped).toMatch(/^non-finite value at step \d+: /);
    expect(Math.max(...wild.gradNorms)).toBeGreaterThan(1e6);
    expect(clipped.stopped).toBeUndefined();
    expect(clipped.gradNorms).toHaveLength(16);
    expect(Math.max(...clipped.gradNorms)).toBeLessThan(1e3);
    expect(clipped.losses.at(-1)!).toBeLessThan(clipped.losses[0]!);
  });
});
