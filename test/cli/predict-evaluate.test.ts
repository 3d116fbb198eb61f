// train → save → predict / evaluate: the weights carry the preprocessing train applied, so a new
// process predicting from the file reproduces train's own test accuracy on the same split, and
// evaluate prints train's test loss. Output paths are checked before anything is trained.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permutation, Rng } from '../../runtime/prng.ts';
import { SPLIT_STREAM } from '../../compiler/cli/preprocess.ts';
import { runCli, type CliResult } from '../support/cli.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'nabla-predict-'));
const model = 'examples/iris/model.json';
const data = 'examples/iris/iris.csv';
const weights = join(dir, 'iris.safetensors');
const wasm = join(dir, 'iris.wasm');

/** The iris file's class names and label of every row (scikit-learn layout: a count line, then features and the label). */
function irisLabels(): { names: string[]; labels: number[] } {
  const [head, ...rows] = readFileSync(data, 'utf8').trim().split('\n');
  return { names: head!.split(',').slice(2), labels: rows.map((line) => Number(line.split(',').at(-1))) };
}

describe('nabla predict and evaluate', () => {
  let trained: CliResult;
  beforeAll(async () => {
    trained = await runCli(['train', model, '--data', data, '--epochs', '3', '--seed', '7', '--save', weights]);
    expect(trained.code, trained.err).toBe(0);
    expect((await runCli(['compile', model, '-o', wasm])).code).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('predict in a new process reproduces train’s test accuracy on the same split', async () => {
    const test = /test {6}loss (\S+), accuracy \S+% \((\d+)\/(\d+)\)/.exec(trained.out)!;
    const [correct, testRows] = [Number(test[2]), Number(test[3])];
    const out = join(dir, 'predictions.csv');
    await run(process.execPath, ['bin/nabla.mjs', 'predict', wasm, '--weights', weights, '--data', data, '--out', out]);
    const [header, ...predicted] = readFileSync(out, 'utf8').trim().split('\n');
    expect(header).toBe('prediction');
    const { names, labels } = irisLabels();
    expect(predicted).toHaveLength(labels.length);
    // train held out these rows: the first testRows of its seeded permutation.
    const held = permutation(labels.length, new Rng(7, SPLIT_STREAM)).subarray(0, testRows);
    const right = Array.from(held).filter((r) => predicted[r] === names[labels[r]!]).length;
    expect(right).toBe(correct);
    // Not a model that predicts one class: the rows predicted span the classes.
    expect(new Set(predicted).size).toBeGreaterThan(1);
  });

  it('evaluate --rows test prints the test loss train printed; --proba gives rows of probabilities', async () => {
    const test = /test {6}(loss .*)$/m.exec(trained.out)![1]!;
    const evaluated = await runCli(['evaluate', wasm, '--weights', weights, '--data', data, '--rows', 'test']);
    expect(evaluated.err).toBe('');
    const [line, metrics] = evaluated.out.split('\n');
    expect(line).toBe(`test rows (30)  ${test}`);
    expect(metrics).toMatch(/^metrics {3}top_2_accuracy \d\.\d{4}/);
    const proba = await runCli(['predict', wasm, '--weights', weights, '--data', data, '--proba']);
    const lines = proba.out.split('\n');
    expect(lines[0]).toBe('prediction,p_setosa,p_versicolor,p_virginica');
    for (const line of lines.slice(1)) {
      const [label, ...p] = line.split(',');
      const values = p.map(Number);
      expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(label).toBe(['setosa', 'versicolor', 'virginica'][values.indexOf(Math.max(...values))]);
    }
  });

  it('a bad output path fails before the first epoch (train) or before loading anything (predict)', async () => {
    const train = await runCli(['train', model, '--data', data, '--epochs', '1', '--save', join(dir, 'missing', 'w.safetensors')]);
    expect(train.code).toBe(1);
    expect(train.err).toContain(`cannot write --save ${join(dir, 'missing', 'w.safetensors')}: no such directory`);
    expect(train.out).toBe('');
    const predict = await runCli(['predict', wasm, '--weights', join(dir, 'absent.safetensors'), '--data', data, '--out', join(dir, 'missing', 'p.csv')]);
    expect(predict.err).toContain('cannot write --out');
  });

  it('--epochs 0 saves the initial weights with the preprocessing; a file of features alone is predicted', async () => {
    const zero = join(dir, 'zero.safetensors');
    const result = await runCli(['train', model, '--data', data, '--epochs', '0', '--save', zero]);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/saved {5}.*\(safetensors, 0 steps\)/);
    const features = join(dir, 'features.csv');
    const rows = readFileSync(data, 'utf8').trim().split('\n').slice(1, 4).map((line) => line.split(',').slice(0, 4).join(','));
    writeFileSync(features, `sepal_length,sepal_width,petal_length,petal_width\n${rows.join('\n')}\n`);
    const predicted = await runCli(['predict', wasm, '--weights', zero, '--data', features]);
    expect(predicted.code, predicted.err).toBe(0);
    expect(predicted.out.split('\n')).toHaveLength(4);
  });
});
