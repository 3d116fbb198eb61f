// A CSV as users have it through train → save → predict: a header, the target in the middle as
// strings, a string feature, a missing value imputed; predict reads a file with the columns in
// another order and no target, and answers with the class names.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'nabla-csv-train-'));

describe('train and predict on a CSV with a header, string columns and a missing value', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('learns the classes by name and predicts them from reordered columns', async () => {
    // size decides the class; colour is noise. Inputs: size, colour=blue, colour=red (one-hot).
    const rows = Array.from({ length: 60 }, (_, i) => {
      const size = (i % 10) / 2 + (i % 3) * 0.1;
      return `${i === 7 ? '' : size},"${size > 2.5 ? 'large, heavy' : 'small'}",${i % 2 ? 'red' : 'blue'}`;
    });
    writeFileSync(join(dir, 'train.csv'), `size,kind,colour\n${rows.join('\n')}\n`);
    const model = { input: { shape: [3] }, layers: [{ type: 'dense', name: 'out', units: 2, activation: 'softmax' }], loss: { type: 'sparse_categorical_crossentropy' }, optimizer: { type: 'adam', learningRate: 0.1 }, batchSize: 16, seed: 1 };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(model));
    const weights = join(dir, 'w.safetensors');
    const refused = await runCli(['train', join(dir, 'model.json'), '--data', join(dir, 'train.csv'), '--target', 'kind']);
    expect(refused.err).toMatch(/train\.csv:9: column 1 \(size\) is empty, a missing value; fill them with --impute/);
    const trained = await runCli(['train', join(dir, 'model.json'), '--data', join(dir, 'train.csv'), '--target', 'kind', '--impute', '--epochs', '60', '--save', weights]);
    expect(trained.code, trained.err).toBe(0);
    expect(trained.out).toMatch(/classes 0 large, heavy, 1 small/);
    writeFileSync(join(dir, 'new.csv'), 'colour,size\nred,4.5\nblue,0.5\n');
    const predicted = await runCli(['predict', join(dir, 'model.json'), '--weights', weights, '--data', join(dir, 'new.csv')]);
    expect(predicted.code, predicted.err).toBe(0);
    expect(predicted.out).toBe('prediction\n"large, heavy"\nsmall');
  }, 120_000);
});
