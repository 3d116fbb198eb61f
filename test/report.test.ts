// The training report: `nabla train --report` writes one self-contained HTML page with the loss
// curves (training shiftable half an epoch left) and log-scale gradient norms per tensor.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../compiler/cli/main.ts';
import { lossSeries, paramSeries } from '../compiler/report/training.ts';
import { lineChart } from '../compiler/report/svg.ts';
import type { History } from '../runtime/fit.ts';

const history: History = {
  epochs: [1, 2, 3].map((epoch) => ({
    epoch,
    loss: 1 / epoch,
    valLoss: 1.2 / epoch,
    seconds: 0,
    diagnostics: {
      params: { 'a.weight': { gradNorm: 10 ** -epoch, weightNorm: 1, updateRatio: 1e-3 } },
      layers: { a: { activation: 'relu', mean: 0.5, std: 0.2, deadFraction: 0 } },
    },
  })),
};

describe('report pieces', () => {
  it('shifts the training curve half an epoch left, keeps validation at epoch ends', () => {
    const [raw, shifted, val] = lossSeries(history);
    expect(raw!.points).toEqual([[1, 1], [2, 0.5], [3, 1 / 3]]);
    expect(shifted!.points.map(([x]) => x)).toEqual([0.5, 1.5, 2.5]);
    expect(val!.points.map(([x]) => x)).toEqual([1, 2, 3]);
    expect(paramSeries(history, 'gradNorm')[0]!.points).toEqual([[1, 0.1], [2, 0.01], [3, 0.001]]);
  });

  it('draws a log axis with a tick per decade, skipping non-positive values', () => {
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 's', points: [[1, 1e-3], [2, 0], [3, 1]] }] });
    expect(['1e-3', '1e-2', '1e-1', '1e0'].every((t) => svg.includes(`>${t}</text>`))).toBe(true);
    expect(svg.match(/<polyline [^>]*points="([^"]*)"/)![1]!.split(' ')).toHaveLength(2);
  });
});

describe('nabla train --report', () => {
  it('writes the HTML page with loss and gradient-norm charts', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'nabla-report-')), 'iris.html');
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const code = await main(['train', 'examples/iris/model.json', '--data', 'examples/iris/iris.csv', '--epochs', '3', '--validation-split', '0.2', '--report', out, '--diagnostics'], io);
    expect(code, lines.join('\n')).toBe(0);
    expect(lines).toContain(`report    ${out}`);
    expect(lines.some((l) => /^ {4}hidden +‖∇W‖ \S+ +‖ΔW‖\/‖W‖ \S+ +act [\d.]+ ± [\d.]+ +dead \d+%$/.test(l))).toBe(true);
    const html = readFileSync(out, 'utf8');
    for (const text of ['<h1>nabla training report: iris</h1>', 'Gradient L2 norm per parameter tensor', 'hidden.weight', 'validation', 'id="shift"', '(log scale)']) {
      expect(html).toContain(text);
    }
    expect(html.match(/<svg /g)).toHaveLength(3);
  });

  it('still writes the report, saying why, when training stops on a non-finite value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nabla-report-'));
    const spec = JSON.parse(readFileSync('examples/iris/model.json', 'utf8')) as { optimizer: { learningRate: number } };
    spec.optimizer.learningRate = 20;
    writeFileSync(join(dir, 'absurd.json'), JSON.stringify(spec));
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const code = await main(['train', join(dir, 'absurd.json'), '--data', 'examples/iris/iris.csv', '--epochs', '40', '--validation-split', '0.2', '--report', join(dir, 'r.html')], io);
    expect(code).toBe(1);
    expect(lines[lines.length - 1]).toMatch(/^nabla: non-finite value at step \d+ \(epoch \d+, batch \d+ of 6\): /);
    const html = readFileSync(join(dir, 'r.html'), 'utf8');
    expect(html).toContain('Training stopped: non-finite value at step');
    // --report compiles telemetry in even without --diagnostics.
    expect(html).toContain('Gradient L2 norm per parameter tensor');
  });
});
