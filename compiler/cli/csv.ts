// Numeric CSV with the label in the last column, as scikit-learn ships its small data sets:
// an optional first line `n_samples,n_features,class names...` (kept for the class names), or
// an ordinary header of column names, or no header at all. Gzipped files are read as they are.
import { CliError } from './errors.ts';
import { readText } from './files.ts';

export interface Dataset {
  /** Where it came from, for messages. */
  readonly source: string;
  readonly rows: number;
  readonly features: number;
  /** rows × features, row-major. */
  readonly x: Float64Array;
  /** One label per row. */
  readonly y: Float64Array;
  /** From a scikit-learn header: the name of class k is classNames[k]. */
  readonly classNames?: readonly string[];
  /** From an ordinary header: one name per column, the label's last. */
  readonly columns?: readonly string[];
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^\d+$/;

function split(line: string): string[] {
  return line.split(',').map((field) => field.trim());
}

/** Parses CSV text; `source` names the file in errors, which also give the line and column. */
export function parseCsv(text: string, source: string): Dataset {
  // Keep 1-based line numbers through the filtering of blank lines.
  const lines = text
    .split(/\r?\n/)
    .map((content, i) => ({ line: i + 1, content }))
    .filter((l) => l.content.trim() !== '');
  if (lines.length === 0) throw new CliError(`${source}: empty file`);

  // Line 1 is a scikit-learn header if it gives the row and feature counts of what follows.
  const first = split(lines[0]!.content);
  const secondWidth = lines[1] ? split(lines[1].content).length : undefined;
  let classNames: string[] | undefined;
  let columns: string[] | undefined;
  let body = lines;
  const declared =
    secondWidth !== undefined && INTEGER.test(first[0] ?? '') && INTEGER.test(first[1] ?? '') && Number(first[1]) === secondWidth - 1;
  const allNumeric = first.every((field) => NUMBER.test(field));
  if (declared && (Number(first[0]) === lines.length - 1 || !allNumeric || first.length !== secondWidth)) {
    if (Number(first[0]) !== lines.length - 1) {
      throw new CliError(`${source}:${lines[0]!.line}: the header says ${first[0]} rows, but ${lines.length - 1} follow (a truncated file?)`);
    }
    body = lines.slice(1);
    if (first.length > 2) classNames = first.slice(2);
  } else if (!allNumeric) {
    if (secondWidth === undefined) throw new CliError(`${source}: only a header line, no data`);
    if (first.length !== secondWidth) {
      throw new CliError(`${source}:${lines[0]!.line}: header has ${first.length} columns, but line ${lines[1]!.line} has ${secondWidth}`);
    }
    body = lines.slice(1);
    columns = first;
  }
  const width = split(body[0]!.content).length;
  if (width < 2) throw new CliError(`${source}:${body[0]!.line}: need at least two columns (features, then the label), found ${width}`);

  const features = width - 1;
  const rows = body.length;
  const x = new Float64Array(rows * features);
  const y = new Float64Array(rows);
  body.forEach(({ line, content }, r) => {
    const fields = split(content);
    if (fields.length !== width) {
      throw new CliError(`${source}:${line}: ${fields.length} columns, expected ${width} like line ${body[0]!.line}`);
    }
    fields.forEach((field, c) => {
      if (!NUMBER.test(field)) {
        const name = columns ? ` (${columns[c]})` : c === features ? ' (the label)' : '';
        throw new CliError(`${source}:${line}: column ${c + 1}${name} is ${JSON.stringify(field)}, not a number`);
      }
      const value = Number(field);
      // Checked as the float32 the trainer reads: 1e999 is Infinity, 1e39 +Infinity in float32.
      if (!Number.isFinite(Math.fround(value))) {
        const name = columns ? ` (${columns[c]})` : c === features ? ' (the label)' : '';
        throw new CliError(`${source}:${line}: column ${c + 1}${name} is ${field}, which is ${Math.fround(value)} in float32; values must be finite in float32 (|x| ≤ 3.4028235e38)`);
      }
      if (c < features) x[r * features + c] = value;
      else y[r] = value;
    });
  });
  return {
    source,
    rows,
    features,
    x,
    y,
    ...(classNames ? { classNames } : {}),
    ...(columns ? { columns } : {}),
  };
}

/** Reads and parses a CSV file (gzipped or not). */
export function loadCsv(path: string): Dataset {
  return parseCsv(readText(path), path);
}
