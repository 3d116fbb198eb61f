// The graph-form examples reach their stated results on real data
// (examples/*/README.md), on the stated seeded split.
import { describe, expect, it } from 'vitest';
import { readJson } from '../compiler/cli/files.ts';
import { parseSpec } from '../compiler/model/spec.ts';
import { trainMultiOutput } from '../examples/multi-output/train.ts';
import { residualDigitsSpec } from '../examples/residual-digits/model.ts';
import { trainResidualDigits } from '../examples/residual-digits/train.ts';
import { trainWideDeep } from '../examples/wide-deep/train.ts';

const fell = (epochs: readonly { loss: number }[]): void => expect(epochs.at(-1)!.loss).toBeLessThan(epochs[0]!.loss);

describe('graph-form examples', () => {
  it('wide & deep regression on diabetes: test R² ≥ 0.45', async () => {
    const result = await trainWideDeep();
    expect(result.testR2).toBeGreaterThanOrEqual(0.45);
    fell(result.epochs);
  });

  it('two outputs on wine: cultivar accuracy ≥ 94 %, alcohol R² ≥ 0.5', async () => {
    const result = await trainMultiOutput();
    expect(result.testAccuracy).toBeGreaterThanOrEqual(0.94);
    expect(result.alcoholR2).toBeGreaterThanOrEqual(0.5);
    fell(result.epochs);
  });

  it('residual MLP with batch normalization on digits: test accuracy ≥ 95 %', async () => {
    const result = await trainResidualDigits();
    expect(result.testAccuracy).toBeGreaterThanOrEqual(0.95);
    fell(result.epochs);
  });

  it("the digits model.json is what the builder's residualBlock writes", () => {
    expect(parseSpec(readJson(new URL('../examples/residual-digits/model.json', import.meta.url).pathname))).toEqual(residualDigitsSpec());
  });
});
