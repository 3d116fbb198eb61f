// examples/words reaches its stated result: on a seeded shuffle of the word list, the 2-block
// transformer trained with a loss at every position on 4000 words (2326 windows of 16 characters,
// 37 batches an epoch) for 16 epochs predicts the characters of 1000 held-out words with
// fewer nats per character than the bigram model of the same training words; the sampler draws the
// same words from the same seed.
import { describe, expect, it } from 'vitest';
import { sample, trainWords } from '../../examples/words/train.ts';

describe('words example (character-level transformer language model)', () => {
  it('beats the bigram baseline on held-out words; seeded samples repeat', async () => {
    const result = await trainWords({ trainWords: 4000, validationWords: 1000, epochs: 16 });
    expect(result.validationNats).toBeLessThan(result.bigramNats - 0.15);
    expect(result.epochs.at(-1)!.loss).toBeLessThan(result.epochs[0]!.loss);
    expect(result.samples).toHaveLength(10);
    for (const word of result.samples) expect(word).toMatch(/^[a-z]*$/);
    expect(sample(result.trainer, 10, 7)).toEqual(result.samples);
    expect(sample(result.trainer, 10, 8)).not.toEqual(result.samples);
  }, 900_000);
});
