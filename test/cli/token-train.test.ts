// A model of token ids trained from a CSV: the ids reach the embedding as they are in the file (no
// standardisation, which would turn them into other ids), and an id out of range is refused with
// its row and column.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../runtime/prng.ts';
import { runCli } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'nabla-token-train-'));

describe('nabla train on token ids', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('feeds ids unscaled to the embedding, learns, and refuses an id out of range', async () => {
    const rng = new Rng(5, 1);
    // The label: does the sequence hold token 3?
    const rows = Array.from({ length: 200 }, () => {
      const ids = Array.from({ length: 5 }, () => rng.below(8));
      return [...ids, ids.includes(3) ? 1 : 0].join(',');
    });
    writeFileSync(join(dir, 'tokens.csv'), `${rows.join('\n')}\n`);
    const model = {
      input: { name: 'ids', shape: [5], dtype: 'int32' },
      layers: [{ type: 'embedding', inputDim: 8, outputDim: 4 }, { type: 'flatten' }, { type: 'dense', units: 16, activation: 'tanh' }, { type: 'dense', units: 1, activation: 'sigmoid' }],
      loss: { type: 'binary_crossentropy' },
      optimizer: { type: 'adam', learningRate: 0.03 },
      batchSize: 32,
    };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(model));
    const trained = await runCli(['train', join(dir, 'model.json'), '--data', join(dir, 'tokens.csv'), '--epochs', '40']);
    expect(trained.code, trained.err).toBe(0);
    expect(trained.out).toMatch(/scaling {3}none: input 'ids' holds token ids/);
    const accuracy = Number(/^test .*accuracy ([\d.]+)%/m.exec(trained.out)?.[1]);
    expect(accuracy).toBeGreaterThan(90);

    writeFileSync(join(dir, 'bad.csv'), `${rows.slice(0, 10).join('\n')}\n1,2,9,0,1,1\n`);
    const refused = await runCli(['train', join(dir, 'model.json'), '--data', join(dir, 'bad.csv'), '--epochs', '1', '--test-split', '0']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/input 'ids': row \d+, column 2 is 9, expected a token id in \[0, 8\)/);
  }, 120_000);
});
