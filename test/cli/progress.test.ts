// What train prints while it works: a line before the compile (and, on a terminal, its stages), one line per epoch up to 50 epochs
// and then one every few (every one with --verbose), a live status line within epochs where the
// output is a terminal, and with --quiet only the test result.
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';

const args = ['train', 'examples/iris/model.json', '--data', 'examples/iris/iris.csv', '--epochs', '120', '--batch-size', '4'];

describe('nabla train progress', () => {
  it('on a terminal: compile line, a status line within epochs, one epoch line every 3 of 120', async () => {
    const out: string[] = [];
    const status: string[] = [];
    const code = await runCli(args, { out: (l) => out.push(l), err: (l) => out.push(l), status: (l) => status.push(l) });
    expect(code.code).toBe(0);
    expect(out[0]).toBe('compile   examples/iris/model.json ...');
    expect(out).toContain('progress  one line every 3 epochs (--verbose: every epoch)');
    const epochs = out.filter((l) => l.startsWith('epoch')).map((l) => Number(/^epoch +(\d+)\//.exec(l)![1]));
    expect(epochs).toEqual([1, ...Array.from({ length: 40 }, (_, k) => 3 * (k + 1))]);
    // While it compiles: each stage as it begins, in order, with the time so far.
    const stages = [...new Set(status.filter((l) => l.startsWith('compile')).map((l) => /: ([a-z ]+), \d+\.\d s$/.exec(l)![1]))];
    expect(stages.slice(0, 5)).toEqual(['lower', 'autodiff', 'fuse', 'plan', 'emit']);
    expect(stages.some((s) => s?.startsWith('asc '))).toBe(true);
    // 30 batches an epoch: at least some status lines, in the documented form.
    expect(status.some((l) => /^epoch \d+\/120 {2}batch \d+\/30 {2}[\d,]+ rows\/s {2}ETA \d+\.\d s {2}loss \d/.test(l))).toBe(true);
  });

  it('--quiet prints the test result alone', async () => {
    const result = await runCli([...args.slice(0, 4), '--epochs', '2', '--quiet']);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^test {6}loss \S+, accuracy \S+% \(\d+\/30\)$/);
  });
});
