// Acceptance 3: iris as in the seed notebook — standardised features, seeded 80/20 split,
// Dense(10, relu) → Dense(1, sigmoid) with BCE for setosa vs rest (≥ 95 %), and a 3-class
// softmax version (≥ 90 %), compiled and trained with SGD lr 0.1.
import { describe, expect, it } from 'vitest';
import { trainIris } from '../examples/iris/train.ts';

describe('iris', () => {
  it('reaches the stated test accuracies', async () => {
    const result = await trainIris();
    expect(result.binary.testAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(result.multiclass.testAccuracy).toBeGreaterThanOrEqual(0.9);
    // Training actually did something: the loss fell.
    for (const run of [result.binary, result.multiclass]) {
      expect(run.epochs.at(-1)!.loss).toBeLessThan(run.epochs[0]!.loss / 2);
    }
  });

  it('holds up under other split seeds', async () => {
    for (const splitSeed of [1, 2, 3]) {
      const result = await trainIris({ splitSeed, epochs: 150, binaryEpochs: 50 });
      expect(result.binary.testAccuracy, `split seed ${splitSeed}`).toBeGreaterThanOrEqual(0.95);
      expect(result.multiclass.testAccuracy, `split seed ${splitSeed}`).toBeGreaterThanOrEqual(0.9);
    }
  });
});
