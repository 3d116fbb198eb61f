// examples/digits-cnn reaches its stated result on the 8×8 digits, on the stated seeded split.
import { describe, expect, it } from 'vitest';
import { trainDigitsCnn } from '../../examples/digits-cnn/train.ts';

describe('digits CNN example', () => {
  it('conv/pool network on 8×8 digits: test accuracy ≥ 98.5 %', async () => {
    const result = await trainDigitsCnn();
    expect(result.testAccuracy).toBeGreaterThanOrEqual(0.985);
    expect(result.epochs.at(-1)!.loss).toBeLessThan(result.epochs[0]!.loss);
  }, 300_000);
});
