// The command line: exit code 2 for a bad command line (with usage), 1 for a user error (one
// line naming the file, line and column), 70 for a bug in nabla (with a request to report it and
// the stack behind --verbose). Text inputs have a size limit, gzipped ones too; output paths are
// checked before any work.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from '../../compiler/cli/main.ts';
import type { Io } from '../../compiler/cli/errors.ts';
import { FUZZ_SEED, fuzzRuns } from './fuzz.ts';
import { runCli } from '../support/cli.ts';

const run = runCli;

const spec = {
  name: 'cli_hardening',
  input: { shape: [2] },
  layers: [{ type: 'dense', name: 'out', units: 2, activation: 'softmax' }],
  loss: { type: 'sparse_categorical_crossentropy' },
  batchSize: 4,
};

describe('CLI', () => {
  let dir: string;
  const at = (name: string): string => join(dir, name);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nabla-cli-'));
    writeFileSync(at('model.json'), JSON.stringify(spec));
    writeFileSync(at('data.csv'), 'a,b,label\n1,2,0\n3,1e999,1\n');
    writeFileSync(at('big.csv'), 'a,b,label\n1e39,2,0\n3,4,1\n');
    // 8 MiB of the same line, a few KiB gzipped.
    writeFileSync(at('bomb.csv.gz'), gzipSync(Buffer.from('a,b,label\n' + '1,2,0\n'.repeat(8 * 2 ** 20 / 6))));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--epochs -1 is the flag check\'s usage error (was "argument is ambiguous")', async () => {
    const result = await run(['train', at('model.json'), '--data', at('data.csv'), '--epochs', '-1']);
    expect(result.code).toBe(EXIT.usage);
    expect(result.err).toMatch(/--epochs: expected an integer ≥ 0, got '-1'/);
  });

  it('a CSV cell of 1e999 names its line and column (was -Infinity at the wrong line)', async () => {
    const result = await run(['train', at('model.json'), '--data', at('data.csv')]);
    expect(result.code).toBe(EXIT.user);
    expect(result.err).toMatch(/data\.csv:3: column 2 \(b\) is 1e999, which is Infinity in float32; values must be finite in float32/);
  });

  it('a CSV cell of 1e39 (finite in float64) is refused too', async () => {
    const result = await run(['train', at('model.json'), '--data', at('big.csv')]);
    expect(result.code).toBe(EXIT.user);
    expect(result.err).toMatch(/big\.csv:2: column 1 \(a\) is 1e39, which is Infinity in float32/);
  });

  it('a gzip bomb is refused at the input limit, naming the file (exhausted memory)', async () => {
    process.env.NABLA_MAX_INPUT_BYTES = String(2 ** 20);
    try {
      const result = await run(['train', at('model.json'), '--data', at('bomb.csv.gz')]);
      expect(result.code).toBe(EXIT.user);
      expect(result.err).toMatch(/cannot read .*bomb\.csv\.gz: it decompresses to more than the 1 MiB input limit \(set NABLA_MAX_INPUT_BYTES to raise it\)/);
    } finally {
      delete process.env.NABLA_MAX_INPUT_BYTES;
    }
  });

  it('an output path in a missing directory is refused before compiling or training', async () => {
    const started = performance.now();
    const result = await run(['train', at('model.json'), '--data', at('data.csv'), '--save', at('missing/x.safetensors')]);
    expect(result.code).toBe(EXIT.user);
    expect(result.err).toMatch(/cannot write --save .*missing\/x\.safetensors: no such directory/);
    const compiled = await run(['compile', at('model.json'), '-o', at('missing/x.wasm')]);
    expect(compiled.code).toBe(EXIT.user);
    expect(compiled.err).toMatch(/cannot write output .*: no such directory/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('an internal error exits 70 and asks for a report; --verbose shows the stack', async () => {
    const boom: (err: string[]) => Io = (err) => ({
      out: () => {
        throw new TypeError('boom');
      },
      err: (l) => err.push(l),
    });
    const quiet: string[] = [];
    expect(await main(['help'], boom(quiet))).toBe(EXIT.internal);
    expect(quiet.join('\n')).toMatch(/nabla: internal error: boom\nThis is a bug in nabla: please report it .* --verbose/);
    const verbose: string[] = [];
    expect(await main(['help', '--verbose'], boom(verbose))).toBe(EXIT.internal);
    expect(verbose.join('\n')).toMatch(/TypeError: boom\n\s+at /);
  });

  it('fuzz: any command line of known words is answered with exit 0, 1 or 2 and a message, never an internal error', async () => {
    // A command, maybe a positional file, then flag-value pairs: enough structure to get past the
    // parser often. No good spec among the files, so no case compiles (each stays fast).
    const command = fc.constantFrom('compile', 'train', 'gradcheck', 'inspect', 'help', 'bogus', '--verbose', '-h');
    const file = fc.constantFrom(at('nothing.json'), at('data.csv'), at('bomb.csv.gz'), at('missing/dir/x'), dir, '', '-');
    const flag = fc.constantFrom('--epochs', '--batch-size', '-o', '--output', '--data', '--seed', '--test-split', '--validation-split', '--weights', '--save', '--report', '--help', '--verbose', '--diagnostics', '--bogus');
    const value = fc.oneof(file, fc.constantFrom('-1', '0', '2.5', '1e999', '4294967296', 'abc', '--', '-0.5', '1'));
    const argv = fc.tuple(command, fc.option(file), fc.array(fc.tuple(flag, value), { maxLength: 3 })).map(([c, f, pairs]) => [c, ...(f === null ? [] : [f]), ...pairs.flat()]);
    const outcomes: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        const result = await run(args);
        expect([0, EXIT.user, EXIT.usage], `${JSON.stringify(args)}: ${result.err}`).toContain(result.code);
        if (result.code !== 0) expect(result.err).toMatch(/^nabla: \S/);
        outcomes[result.code] = (outcomes[result.code] ?? 0) + 1;
      }),
      { numRuns: fuzzRuns(300), seed: FUZZ_SEED },
    );
    console.info(`CLI fuzz: ${Object.values(outcomes).reduce((a, b) => a + b, 0)} command lines; exit codes ${JSON.stringify(outcomes)}; none internal (70)`);
  });
});
