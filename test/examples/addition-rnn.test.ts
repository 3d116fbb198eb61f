// examples/addition-rnn learns to add 3-digit numbers written as digit strings: ≥ 95 % of the
// held-out sums (pairs never seen in training) exactly right.
import { describe, expect, it } from 'vitest';
import { encode, trainAddition } from '../../examples/addition-rnn/train.ts';

describe('addition RNN example', () => {
  it('encodes "345+067" reversed, one-hot, and the answer "0412" per character', () => {
    const { x, y } = encode([[345, 67]]);
    const characters = Array.from({ length: 7 }, (_, t) => '0123456789+ '[x.data.subarray(t * 12, (t + 1) * 12).indexOf(1)]).join('');
    expect(characters).toBe('760+543');
    expect([0, 1, 2, 3].map((k) => y[`digit${k}`]![0])).toEqual([0, 4, 1, 2]);
  });

  it('LSTM encoder and decoder: ≥ 95 % exact match on held-out sums of 3-digit numbers', async () => {
    const result = await trainAddition();
    expect(result.exactMatch).toBeGreaterThanOrEqual(0.95);
    expect(result.epochs.at(-1)!.loss).toBeLessThan(result.epochs[0]!.loss / 10);
  }, 600_000);
});
