// What `nabla train` did to the data before the model saw it — the feature columns, the
// standardisation statistics, the class names and one-vs-rest choice, the test split — stored as
// JSON in the checkpoint's safetensors metadata, so `predict`, `evaluate` and `train --weights`
// apply exactly the same to new data.
import { z } from 'zod';
import { CliError } from './errors.ts';
import type { Dataset } from './csv.ts';
import { standardize, trainTestSplit, type Samples, type Standardizer } from './preprocess.ts';

/** The safetensors metadata key that holds the record. */
export const PREPROCESSING_KEY = 'nabla_preprocessing';

const finite = z.number().refine(Number.isFinite, { error: 'expected a finite number' });
const PreprocessingRecord = z.strictObject({
  /** Feature columns the model takes, in order (the CSV's label column is the last). */
  features: z.number().int().positive(),
  /** The header's column names (features, then the label), when the CSV had one. */
  columns: z.array(z.string()).optional(),
  /** Per-feature mean and std the features were standardised with; absent with --no-standardize. */
  standardize: z.strictObject({ mean: z.array(finite), std: z.array(finite.refine((v) => v > 0, { error: 'expected a std > 0' })) }).optional(),
  /** Class k's name (a scikit-learn header's class names). */
  classNames: z.array(z.string()).optional(),
  /** binary_crossentropy one-vs-rest: this class index is 1, every other 0. */
  positiveClass: z.number().int().nonnegative().optional(),
  /** The CSV's column layout (feature columns, their kinds and vocabularies, imputation, the target and its classes). */
  schema: z
    .strictObject({
      features: z.array(z.strictObject({ name: z.string(), kind: z.enum(['number', 'category']), categories: z.array(z.string()).optional(), fill: z.union([finite, z.string()]).optional() })),
      target: z.strictObject({ name: z.string(), classes: z.array(z.string()).optional() }),
    })
    .optional(),
  /** The test split train held out: the same seed and fraction pick the same rows of the same file. */
  split: z.strictObject({ seed: z.number().int().nonnegative(), testFraction: z.number().min(0).max(1), rows: z.number().int().positive() }).optional(),
});
export type Preprocessing = z.output<typeof PreprocessingRecord>;

export function encodePreprocessing(p: Preprocessing): Record<string, string> {
  return { [PREPROCESSING_KEY]: JSON.stringify(p) };
}

/** The record in a checkpoint's metadata, or undefined for a file without one (other tools', or weights alone). */
export function decodePreprocessing(metadata: Readonly<Record<string, string>>, source: string): Preprocessing | undefined {
  const text = metadata[PREPROCESSING_KEY];
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${source}: metadata ${PREPROCESSING_KEY} is not JSON: ${(err as Error).message}`);
  }
  const parsed = PreprocessingRecord.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CliError(`${source}: metadata ${PREPROCESSING_KEY}.${issue.path.join('.')}: ${issue.message}`);
  }
  const p = parsed.data;
  if (p.standardize && (p.standardize.mean.length !== p.features || p.standardize.std.length !== p.features)) {
    throw new CliError(`${source}: metadata ${PREPROCESSING_KEY}.standardize has ${p.standardize.mean.length} means and ${p.standardize.std.length} stds for ${p.features} features`);
  }
  return p;
}

export function scalerOf(p: Preprocessing): Standardizer | undefined {
  return p.standardize ? { mean: Float64Array.from(p.standardize.mean), std: Float64Array.from(p.standardize.std) } : undefined;
}

/** Which rows of a file to use: all of them, or one side of the split train made of the same file. */
export type Subset = 'all' | 'test' | 'train';

/**
 * The rows of `data` the saved preprocessing maps to model inputs: `subset` picked with train's
 * split (refused unless the file has the rows train split), then standardised as train did.
 */
export function applyPreprocessing(p: Preprocessing, data: Samples, subset: Subset, source: string): Samples {
  let rows = data;
  if (subset !== 'all') {
    if (!p.split) throw new CliError(`--rows ${subset}: the weights do not record a test split (saved with --test-split 0, or not by nabla train)`);
    if (p.split.rows !== data.rows) throw new CliError(`--rows ${subset}: ${source} has ${data.rows} rows, but train split a file of ${p.split.rows}; pass the same file`);
    const split = trainTestSplit(data, p.split.testFraction, p.split.seed);
    rows = subset === 'test' ? split.test : split.train;
  }
  const scaler = scalerOf(p);
  return scaler ? standardize(rows, scaler) : rows;
}

/**
 * The feature columns of `data` as the model takes them, for weights saved without a column
 * layout: with or without the label column, checked by count and, with a header, by name.
 */
export function featureRows(p: Preprocessing, data: Dataset): { samples: Samples; labelled: boolean } {
  const names = p.columns ? ` (${p.columns.slice(0, p.features).join(', ')})` : '';
  if (data.columns && p.columns) {
    const expected = p.columns.slice(0, data.features + 1);
    const wrong = data.columns.findIndex((c, k) => c !== expected[k]);
    if (wrong >= 0 && wrong < p.features) throw new CliError(`${data.source}: column ${wrong + 1} is '${data.columns[wrong]}', but the model was trained with '${p.columns[wrong]}' there${names}`);
  }
  // The reader takes the last column as the label: a file of features alone has one feature too few there.
  if (data.features === p.features) return { samples: data, labelled: true };
  if (data.features === p.features - 1) {
    const x = new Float64Array(data.rows * p.features);
    for (let r = 0; r < data.rows; r++) {
      x.set(data.x.subarray(r * data.features, (r + 1) * data.features), r * p.features);
      x[r * p.features + p.features - 1] = data.y[r]!;
    }
    return { samples: { rows: data.rows, features: p.features, x, y: new Float64Array(data.rows) }, labelled: false };
  }
  throw new CliError(`${data.source}: ${data.features + 1} columns, but the model takes ${p.features} features${names} (and optionally the label after them)`);
}
