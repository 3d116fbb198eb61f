// The command line, driven in process through main(argv, io): the commands of the README, and
// the exit codes and messages of the ways it can be used wrongly.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';

const run = (...argv: string[]) => runCli(argv);

const dir = mkdtempSync(join(tmpdir(), 'nabla-cli-'));

describe('nabla compile / inspect', () => {
  it('compiles the seed model and inspects the artifact', async () => {
    const wasm = join(dir, 'seed.wasm');
    const compiled = await run('compile', 'examples/seed/model.json', '-o', wasm);
    expect(compiled.code).toBe(0);
    expect(compiled.out).toMatch(/seed: 4 tensors, 9 parameters/);
    expect(readFileSync(wasm).subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
    const inspected = await run('inspect', wasm);
    expect(inspected.code).toBe(0);
    expect(inspected.out).toMatch(/imports\s+0/);
    expect(inspected.out).toMatch(/hidden\.weight\s+\[2, 2\]\s+glorot_uniform/);
    expect(inspected.out).toMatch(/loss\s+mse, weight 0\.5/);
    const json = await run('inspect', wasm, '--json');
    expect(JSON.parse(json.out)).toMatchObject({ model: 'seed', batchSize: 1, format: 'nabla-trainer' });
  });
});

describe('nabla compile --threaded', () => {
  it('adds the threaded builds, which inspect reports; without the flag there are none', async () => {
    const plain = join(dir, 'iris.wasm');
    const threaded = join(dir, 'iris-threaded.wasm');
    expect((await run('compile', 'examples/iris/model.json', '-o', plain)).out).not.toMatch(/threaded/);
    const compiled = await run('compile', 'examples/iris/model.json', '-o', threaded, '--threaded');
    expect(compiled.code, compiled.err).toBe(0);
    expect(compiled.out).toMatch(/wasm .*, with threaded builds/);
    expect((await run('inspect', plain)).out).toMatch(/threads\s+one \(compile with --threaded/);
    // iris's largest product (16 rows × 4 inputs × 10 units) cannot fill two parts: one thread.
    expect((await run('inspect', threaded)).out).toMatch(/threads\s+threaded builds of [\d.]+ KiB \([\d,]+ bytes\) and [\d.]+ KiB \([\d,]+ bytes\) \(loadTrainer\(bytes, \{ threads \}\)\): 5 products run in parts, the largest product 640 multiply-adds at batch 16; below two parts of 262,144, so loadTrainer keeps one thread/);
  });
});

describe('nabla train', () => {
  it('trains iris and reports test accuracy', async () => {
    const result = await run('train', 'examples/iris/model.json', '--data', 'examples/iris/iris.csv', '--epochs', '60');
    expect(result.code).toBe(0);
    const accuracy = Number(/accuracy ([\d.]+)% \(/.exec(result.out)?.[1]);
    expect(accuracy).toBeGreaterThanOrEqual(90);
  });

  it('trains on threads (--threads): the same test result as on one thread; iris is too small and says so', async () => {
    const small = await run('train', 'examples/iris/model.json', '--data', 'examples/iris/iris.csv', '--epochs', '2', '--threads', '2');
    expect(small.code, small.err).toBe(0);
    expect(small.out).toMatch(/^threads {3}1 \(no product of this model is large enough to gain from threads/m);
    // 32 rows × 512 × 512 multiply-adds in the second layer: parts of 2¹⁸ fill two threads.
    const wide = join(dir, 'wide.json');
    const spec = JSON.parse(readFileSync('examples/iris/model.json', 'utf8')) as { layers: unknown[] };
    writeFileSync(wide, JSON.stringify({ ...spec, layers: [{ type: 'dense', units: 512, activation: 'relu' }, { type: 'dense', units: 512, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] }));
    const testLine = (out: string): string => /^test .*$/m.exec(out)![0];
    const one = await run('train', wide, '--data', 'examples/iris/iris.csv', '--epochs', '3');
    const two = await run('train', wide, '--data', 'examples/iris/iris.csv', '--epochs', '3', '--threads', '2');
    expect(two.code, two.err).toBe(0);
    expect(two.out).toMatch(/^threads {3}2$/m);
    expect(one.out).not.toMatch(/^threads/m);
    expect(testLine(two.out)).toBe(testLine(one.out));
  }, 120_000);

  it('starts from explicit weights: the seed example loss', async () => {
    const result = await run('train', 'examples/seed/model.json', '--data', 'examples/seed/sample.csv', '--weights', 'examples/seed/weights.json', '--epochs', '1', '--test-split', '0', '--no-standardize');
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/0\.03823/);
  });
});

describe('the ways it is used wrongly', () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ input: { shape: [2] }, layers: [{ type: 'dense', units: -1 }], loss: { type: 'mse' } }));
  const ragged = join(dir, 'ragged.csv');
  writeFileSync(ragged, '5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0\n4.7,3.2,1.3,0.2,0\n');

  it.each([
    ['no command', [], 2, /missing command/],
    ['unknown command', ['fly'], 2, /unknown command 'fly'/],
    ['unknown flag', ['compile', 'examples/seed/model.json', '--fast'], 2, /--fast/],
    ['missing --data', ['train', 'examples/iris/model.json'], 2, /--data/],
    ['bad epochs', ['train', 'examples/iris/model.json', '--data', 'examples/iris/iris.csv', '--epochs', '1.5'], 2, /--epochs: expected an integer ≥ 0, got '1.5'/],
    ['bad thread count', ['train', 'examples/iris/model.json', '--data', 'examples/iris/iris.csv', '--threads', 'many'], 2, /--threads: expected a positive integer, got 'many'/],
    ['missing file', ['compile', join(dir, 'nope.json')], 1, /nope\.json/],
    ['bad spec names the field', ['compile', bad], 1, /layers\[0\]\.units: expected a positive integer, got -1/],
    ['ragged CSV names the line', ['train', 'examples/iris/model.json', '--data', ragged], 1, /ragged\.csv:2: 4 columns, expected 5/],
    ['not a wasm', ['inspect', 'examples/seed/model.json'], 1, /nabla: /],
  ])('%s', async (_name, argv, code, message) => {
    const result = await run(...(argv as string[]));
    expect(result.code).toBe(code);
    expect(result.err).toMatch(message);
    expect(result.err).not.toMatch(/\n\s+at /);
  });
});

describe('graph-form models on the command line', () => {
  it('compiles and inspects a two-input model; train refuses it with a way forward', async () => {
    const wasm = join(dir, 'wide.wasm');
    expect((await run('compile', 'examples/wide-deep/model.json', '-o', wasm)).code).toBe(0);
    const inspected = await run('inspect', wasm);
    expect(inspected.out).toMatch(/input\s+wide \[N, 13\] f32\n\s*input\s+deep \[N, 10\] f32/);
    expect(inspected.out).toMatch(/joined\s+concatenate\s+\[N, 21\]\s+wide, deep2\s+0/);
    const trained = await run('train', 'examples/wide-deep/model.json', '--data', 'examples/iris/iris.csv');
    expect(trained.code).not.toBe(0);
    expect(trained.err).toMatch(/model 'diabetes_wide_deep' has 2 input\(s\) \(wide, deep\) and 1 output\(s\) \(progression\); nabla train feeds one input/);
  });
});
