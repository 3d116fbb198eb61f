// The training report (`nabla train ... --report out.html`): one self-contained HTML page with the
// loss curves and, for trainers compiled with diagnostics, per-layer gradient norms and
// update-to-weight ratios over the epochs on log scales, and the last epoch's activation statistics.
import type { History } from '../../runtime/fit.ts';
import { lineChart, type Series } from './svg.ts';

export interface ReportInput {
  readonly model: string;
  readonly history: History;
  /** Show the training curve shifted half an epoch left at first (a checkbox switches it). */
  readonly shiftTrain?: boolean;
  /** Lines of context shown under the title (data, split, optimizer). */
  readonly notes?: readonly string[];
  readonly test?: { readonly loss: number; readonly accuracy?: number };
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (v: number | undefined): string => (v === undefined ? '' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toPrecision(4));

/**
 * The training loss of an epoch is a mean over its steps, taken while the weights move: it
 * belongs to the middle of the epoch. The validation loss is measured once, at the end. Shifting
 * the training curve half an epoch left compares the two at the same weights.
 */
export function lossSeries(history: History): Series[] {
  const epochs = history.epochs;
  const series: Series[] = [
    { name: 'training', points: epochs.map((e) => [e.epoch, e.loss]), className: 'train-raw' },
    { name: 'training, ½ epoch left', points: epochs.map((e) => [e.epoch - 0.5, e.loss]), className: 'train-shifted', colour: 0, legendRow: 0 },
  ];
  if (epochs.some((e) => e.valLoss !== undefined)) {
    const points = epochs.filter((e) => e.valLoss !== undefined).map((e) => [e.epoch, e.valLoss!] as const);
    series.push({ name: 'validation', points, dashed: true, colour: 1, legendRow: 1 });
  }
  return series;
}

/** One series per parameter tensor of `stat` over the epochs. */
export function paramSeries(history: History, stat: 'gradNorm' | 'updateRatio'): Series[] {
  const names = Object.keys(history.epochs[0]?.diagnostics?.params ?? {});
  return names.map((name) => ({
    name,
    points: history.epochs.map((e) => [e.epoch, e.diagnostics?.params[name]?.[stat] ?? NaN] as const),
    dashed: name.endsWith('.bias'),
  }));
}

function activationTable(history: History): string {
  const last = history.epochs[history.epochs.length - 1]?.diagnostics;
  if (!last) return '';
  const rows = Object.entries(last.layers).map(([name, l]) => {
    const p = last.params[`${name}.weight`];
    const cells = [name, l.activation, num(l.mean), num(l.std), l.deadFraction === undefined ? '' : `${(l.deadFraction * 100).toFixed(1)} %`];
    cells.push(l.saturatedFraction === undefined ? '' : `${(l.saturatedFraction * 100).toFixed(1)} %`, num(p?.gradNorm), num(p?.weightNorm), num(p?.updateRatio));
    return `<tr>${cells.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`;
  });
  const head = ['layer', 'activation', 'mean', 'std', 'dead ReLU', 'saturated', '‖∇W‖', '‖W‖', '‖ΔW‖/‖W‖'];
  return `<h2>Layers, epoch ${history.epochs.length} (means over its steps)</h2>
<table><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr>
${rows.join('\n')}
</table>`;
}

/** A loss that moves over more than two decades (a divergence, a long run) reads better on a log axis. */
function spansDecades(history: History): boolean {
  const values = history.epochs.flatMap((e) => [e.loss, e.valLoss ?? NaN]).filter((v) => v > 0 && Number.isFinite(v));
  return values.length > 1 && Math.max(...values) / Math.min(...values) > 100;
}

export function trainingReport(input: ReportInput): string {
  const { history } = input;
  const charts = [
    `<label><input type="checkbox" id="shift"${input.shiftTrain ? ' checked' : ''}> shift the training curve half an epoch left (a running mean over the epoch, against the end-of-epoch validation snapshot)</label>`,
    lineChart({ title: 'Loss', xLabel: 'epoch', yLabel: 'loss', series: lossSeries(history), logY: spansDecades(history), legendWidth: 180 }),
  ];
  const telemetry = history.epochs[0]?.diagnostics !== undefined;
  if (telemetry) {
    charts.push(lineChart({ title: 'Gradient L2 norm per parameter tensor', xLabel: 'epoch', yLabel: '‖∂loss/∂w‖', series: paramSeries(history, 'gradNorm'), logY: true, legendWidth: 180 }));
    charts.push(lineChart({ title: 'Update-to-weight ratio ‖Δw‖/‖w‖', xLabel: 'epoch', yLabel: 'ratio', series: paramSeries(history, 'updateRatio'), logY: true, legendWidth: 180 }));
  }
  const test = input.test ? `<p>Test loss ${num(input.test.loss)}${input.test.accuracy === undefined ? '' : `, accuracy ${(input.test.accuracy * 100).toFixed(2)} %`}.</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nabla: ${escape(input.model)}</title>
<style>
body { font-family: sans-serif; margin: 24px; max-width: 900px; }
body:has(#shift:checked) .train-raw, body:has(#shift:not(:checked)) .train-shifted { display: none; }
table { border-collapse: collapse; margin-top: 8px; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, td:nth-child(2) { text-align: left; } svg { display: block; margin: 12px 0; }
</style></head>
<body>
<h1>nabla training report: ${escape(input.model)}</h1>
${(input.notes ?? []).map((n) => `<div>${escape(n)}</div>`).join('\n')}
${test}
${charts.join('\n')}
${telemetry ? activationTable(history) : '<p>Compile with diagnostics (<code>--diagnostics</code>) for gradient norms and layer statistics.</p>'}
</body></html>
`;
}
