// CSV as users have it, parsed by csv-parse (quoted fields, embedded commas and line breaks, a
// BOM): an optional header (column names, or scikit-learn's `n_samples,n_features,class names...`
// line), the target in any column (default the last), numeric or string columns — string targets
// label-encoded, string features one-hot — and missing values refused with the line and column
// unless imputed. Gzipped files are read as they are. The column layout (CsvSchema) is what train
// saves with the weights, so predict and evaluate read new files the same way.
import { CsvError, parse } from 'csv-parse/sync';
import { CliError } from './errors.ts';
import { readText } from './files.ts';

export interface ColumnSchema {
  readonly name: string;
  readonly kind: 'number' | 'category';
  /** A category column's vocabulary, sorted: one-hot column k is categories[k]. */
  readonly categories?: readonly string[];
  /** The value a missing field takes (imputed: the column's mean, or its most frequent category). */
  readonly fill?: number | string;
}

export interface CsvSchema {
  readonly features: readonly ColumnSchema[];
  /** The target column; `classes` when its values were strings (label k is classes[k]). */
  readonly target: { readonly name: string; readonly classes?: readonly string[] };
}

export interface CsvOptions {
  /** The target column: a header name or a 1-based column number. Default: the last column. */
  readonly target?: string;
  /** Fill missing feature values (numbers: the column's mean; strings: the most frequent). Default: refuse them. */
  readonly impute?: boolean;
  /** Read with the layout train saved (predict, evaluate): the same columns, vocabularies and fills; the target column may be absent. */
  readonly schema?: CsvSchema;
}

export interface Dataset {
  /** Where it came from, for messages. */
  readonly source: string;
  readonly rows: number;
  /** Model input width: numeric columns, plus one per category of each string column. */
  readonly features: number;
  /** rows × features, row-major. */
  readonly x: Float64Array;
  /** One label per row (zeros when the file has no target column). */
  readonly y: Float64Array;
  /** False when a file read with a schema has only the feature columns. */
  readonly labelled: boolean;
  /** Class k's name: the target's string values, or a scikit-learn header's class names. */
  readonly classNames?: readonly string[];
  /** From a header: one name per column of the file. */
  readonly columns?: readonly string[];
  readonly schema: CsvSchema;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^\d+$/;
/** Fields read as a missing value, as pandas reads them by default (the common ones). */
const MISSING = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', '?']);

interface Line {
  readonly line: number;
  readonly fields: readonly string[];
}

function records(text: string, source: string): Line[] {
  try {
    const parsed = parse(text, { relax_column_count: true, skip_empty_lines: true, skip_records_with_empty_values: true, trim: true, bom: true, info: true }) as unknown as { record: string[]; info: { lines: number } }[];
    return parsed.map(({ record, info }) => ({ line: info.lines, fields: record }));
  } catch (err) {
    if (err instanceof CsvError) throw new CliError(`${source}: ${(err as Error).message}`);
    throw err;
  }
}

/** Splits off a header: scikit-learn's count line (class names kept) or a line of column names. */
function header(lines: Line[], source: string): { body: Line[]; columns?: string[]; classNames?: string[] } {
  if (lines.length === 0) throw new CliError(`${source}: empty file`);
  const first = lines[0]!.fields;
  const secondWidth = lines[1]?.fields.length;
  const declared = secondWidth !== undefined && INTEGER.test(first[0] ?? '') && INTEGER.test(first[1] ?? '') && Number(first[1]) === secondWidth - 1;
  const allNumeric = first.every((field) => NUMBER.test(field));
  if (declared && (Number(first[0]) === lines.length - 1 || !allNumeric || first.length !== secondWidth)) {
    if (Number(first[0]) !== lines.length - 1) throw new CliError(`${source}:${lines[0]!.line}: the header says ${first[0]} rows, but ${lines.length - 1} follow (a truncated file?)`);
    return { body: lines.slice(1), ...(first.length > 2 ? { classNames: first.slice(2) } : {}) };
  }
  // A first line with a field that is not a number is a header of column names (as pandas reads a file).
  if (!allNumeric) {
    if (secondWidth === undefined) throw new CliError(`${source}: only a header line, no data`);
    if (first.length !== secondWidth) throw new CliError(`${source}:${lines[0]!.line}: header has ${first.length} columns, but line ${lines[1]!.line} has ${secondWidth}`);
    return { body: lines.slice(1), columns: [...first] };
  }
  return { body: lines };
}

function targetIndex(given: string | undefined, width: number, columns: readonly string[] | undefined, source: string): number {
  if (given === undefined) return width - 1;
  const byName = columns?.indexOf(given) ?? -1;
  if (byName >= 0) return byName;
  if (/^\d+$/.test(given) && Number(given) >= 1 && Number(given) <= width) return Number(given) - 1;
  const names = columns ? `the columns are ${columns.join(', ')}` : `the file has no header, so give a column number 1..${width}`;
  throw new CliError(`--target ${given}: no such column in ${source}; ${names}`);
}

const columnName = (columns: readonly string[] | undefined, c: number): string => (columns ? ` (${columns[c]})` : '');

function checkedNumber(field: string, at: string): number {
  const value = Number(field);
  // Checked as the float32 the trainer reads: 1e999 is Infinity, 1e39 +Infinity in float32.
  if (!Number.isFinite(Math.fround(value))) throw new CliError(`${at} is ${field}, which is ${Math.fround(value)} in float32; values must be finite in float32 (|x| ≤ 3.4028235e38)`);
  return value;
}

/** A column's layout, learnt from the training file. */
function learnColumn(name: string, values: readonly string[], impute: boolean): ColumnSchema {
  const present = values.filter((v) => !MISSING.has(v));
  if (present.every((v) => NUMBER.test(v))) {
    if (!impute || present.length === values.length) return { name, kind: 'number' };
    return { name, kind: 'number', fill: present.reduce((a, v) => a + Number(v), 0) / Math.max(present.length, 1) };
  }
  const categories = [...new Set(present)].sort();
  if (!impute || present.length === values.length) return { name, kind: 'category', categories };
  const counts = new Map<string, number>();
  for (const v of present) counts.set(v, (counts.get(v) ?? 0) + 1);
  const fill = categories.reduce((best, c) => (counts.get(c)! > counts.get(best)! ? c : best), categories[0]!);
  return { name, kind: 'category', categories, fill };
}

const width = (s: ColumnSchema): number => (s.kind === 'number' ? 1 : s.categories!.length);

/** Parses CSV text; `source` names the file in errors, which also give the line and column. */
export function parseCsv(text: string, source: string, options: CsvOptions = {}): Dataset {
  const { body, columns, classNames: headerClasses } = header(records(text, source), source);
  const fieldCount = body[0]!.fields.length;
  for (const { line, fields } of body) {
    if (fields.length !== fieldCount) throw new CliError(`${source}:${line}: ${fields.length} columns, expected ${fieldCount} like line ${body[0]!.line}`);
  }
  const saved = options.schema;
  const name = (c: number): string => columns?.[c] ?? `column ${c + 1}`;
  // Which file column feeds each feature, and where the target is (-1: absent, predict only).
  let featureColumns: number[];
  let target: number;
  if (saved) {
    if (columns && saved.features.every((f) => columns.includes(f.name))) {
      featureColumns = saved.features.map((f) => columns.indexOf(f.name));
      target = columns.indexOf(saved.target.name);
    } else if (fieldCount === saved.features.length || fieldCount === saved.features.length + 1) {
      // Without names (or other names), by position: the features in train's order, the target last if there.
      featureColumns = saved.features.map((_, k) => k);
      target = fieldCount > saved.features.length ? fieldCount - 1 : -1;
    } else {
      const missing = columns ? saved.features.filter((f) => !columns.includes(f.name)).map((f) => f.name) : [];
      const why = missing.length ? `its header lacks ${missing.join(', ')}` : `it has ${fieldCount} columns`;
      throw new CliError(`${source}: the model was trained on the columns ${saved.features.map((f) => f.name).join(', ')} (and the target ${saved.target.name}), but ${why}`);
    }
  } else {
    if (fieldCount < 2) throw new CliError(`${source}:${body[0]!.line}: need at least two columns (features and the target), found ${fieldCount}`);
    target = targetIndex(options.target, fieldCount, columns, source);
    featureColumns = Array.from({ length: fieldCount }, (_, c) => c).filter((c) => c !== target);
  }
  const schemaFeatures = saved?.features ?? featureColumns.map((c) => learnColumn(name(c), body.map((l) => l.fields[c]!), options.impute ?? false));
  let targetSchema: CsvSchema['target'] = saved?.target ?? { name: name(target) };
  if (!saved) {
    const values = body.map((l) => l.fields[target]!);
    if (!values.every((v) => MISSING.has(v) || NUMBER.test(v))) targetSchema = { ...targetSchema, classes: [...new Set(values.filter((v) => !MISSING.has(v)))].sort() };
  }

  const features = schemaFeatures.reduce((a, s) => a + width(s), 0);
  const rows = body.length;
  const x = new Float64Array(rows * features);
  const y = new Float64Array(rows);
  body.forEach(({ line, fields }, r) => {
    let at = r * features;
    schemaFeatures.forEach((s, k) => {
      const c = featureColumns[k]!;
      const where = `${source}:${line}: column ${c + 1}${columnName(columns, c)}`;
      let field = fields[c]!;
      if (MISSING.has(field)) {
        if (s.fill === undefined) throw new CliError(`${where} is ${field === '' ? 'empty' : JSON.stringify(field)}, a missing value; fill them with --impute (the column's mean, or its most frequent value) or remove the row`);
        field = String(s.fill);
      }
      if (s.kind === 'number') {
        if (!NUMBER.test(field)) throw new CliError(`${where} is ${JSON.stringify(field)}, not a number${saved ? ' (the column was numeric when the model was trained)' : ''}`);
        x[at++] = checkedNumber(field, where);
        return;
      }
      const k2 = s.categories!.indexOf(field);
      if (k2 < 0) throw new CliError(`${where} is ${JSON.stringify(field)}, a category the model was not trained with (${s.categories!.join(', ')})`);
      x[at + k2] = 1;
      at += s.categories!.length;
    });
    if (target < 0) return;
    const field = fields[target]!;
    const where = `${source}:${line}: column ${target + 1}${columnName(columns, target)} (the target)`;
    if (MISSING.has(field)) throw new CliError(`${where} is ${field === '' ? 'empty' : JSON.stringify(field)}: a row needs its target`);
    if (targetSchema.classes) {
      const k = targetSchema.classes.indexOf(field);
      if (k < 0) throw new CliError(`${where} is ${JSON.stringify(field)}, not one of the classes the model was trained with (${targetSchema.classes.join(', ')})`);
      y[r] = k;
    } else {
      if (!NUMBER.test(field)) throw new CliError(`${where} is ${JSON.stringify(field)}, not a number`);
      y[r] = checkedNumber(field, where);
    }
  });
  const classNames = targetSchema.classes ?? headerClasses;
  return {
    source,
    rows,
    features,
    x,
    y,
    labelled: target >= 0,
    schema: { features: schemaFeatures, target: targetSchema },
    ...(classNames ? { classNames: [...classNames] } : {}),
    ...(columns ? { columns } : {}),
  };
}

/** Reads and parses a CSV file (gzipped or not). */
export function loadCsv(path: string, options: CsvOptions = {}): Dataset {
  return parseCsv(readText(path), path, options);
}
