// Small formatting helpers shared by the commands.
import type { Signature, TensorSpec } from '../../runtime/manifest.ts';
import type { Evaluation } from '../../runtime/runner.ts';

export function bytesText(n: number): string {
  const exact = `${n.toLocaleString('en-US')} bytes`;
  if (n < 1024) return exact;
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB (${exact})` : `${(n / 1024 / 1024).toFixed(2)} MiB (${exact})`;
}

export function tensorText(t: TensorSpec): string {
  return `${t.name} [${t.shape.join(', ')}] ${t.dtype}`;
}

export function paramCount(signature: Signature): number {
  return signature.params.reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** Pads the first column of rows to one width. */
export function table(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

/** Five significant digits: small losses keep their detail. */
export const lossText = (v: number): string => v.toPrecision(5);

/** `loss 0.12345, accuracy 96.67% (29/30)`: how train's test line and evaluate report an evaluation. */
export function evaluationText(evaluation: Evaluation, rows: number): string {
  const accuracy = evaluation.accuracy === undefined ? '' : `, accuracy ${(evaluation.accuracy * 100).toFixed(2)}% (${Math.round(evaluation.accuracy * rows)}/${rows})`;
  return `loss ${lossText(evaluation.loss)}${accuracy}`;
}
