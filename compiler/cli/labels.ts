// Fitting a CSV's label column to what the model's loss expects, with errors that say how.
import type { Signature } from '../../runtime/manifest.ts';
import { CliError } from './errors.ts';

export interface LabelInfo {
  readonly source: string;
  readonly y: Float64Array;
  readonly classNames?: readonly string[];
}

function distinct(y: Float64Array): number[] {
  return [...new Set(y)].sort((a, b) => a - b);
}

function listed(values: readonly number[]): string {
  return values.length > 6 ? `${values.slice(0, 6).join(', ')}, ...` : values.join(', ');
}

/** The class index `K` (a number, or one of the header's class names) of --positive-class. */
export function resolveClass(given: string, data: LabelInfo): number {
  const byName = data.classNames?.indexOf(given) ?? -1;
  if (byName >= 0) return byName;
  if (/^\d+$/.test(given)) return Number(given);
  const names = data.classNames ? `; the classes are ${data.classNames.map((n, k) => `${k} (${n})`).join(', ')}` : '';
  throw new CliError(`--positive-class: ${JSON.stringify(given)} is neither a class index nor a class name${names}`);
}

/**
 * The labels as the model's loss takes them: class indices in [0, units) for sparse categorical
 * cross-entropy; 0/1 for binary cross-entropy (one-vs-rest with `positiveClass`); any value for mse.
 */
export function prepareLabels(signature: Signature, data: LabelInfo, positiveClass?: string): { y: Float64Array; note?: string } {
  const loss = signature.loss.type;
  const model = `model '${signature.model}'`;
  if (signature.prediction.shape.length > 2) {
    throw new CliError(`${model} predicts [${signature.prediction.shape.slice(1).join(', ')}] per sample, a loss at every position; a CSV has one label column per row: train it through the API`);
  }
  const units = signature.prediction.shape[1] as number;
  const classes = distinct(data.y);
  if (positiveClass !== undefined && loss !== 'binary_crossentropy') {
    throw new CliError(`--positive-class applies to binary_crossentropy models; ${model} uses ${loss}`);
  }
  switch (loss) {
    case 'categorical_crossentropy':
      throw new CliError(`${model} uses categorical_crossentropy, which takes one-hot label rows; a CSV has one label column: use sparse_categorical_crossentropy`);
    case 'sparse_categorical_crossentropy': {
      const bad = classes.find((v) => !Number.isInteger(v) || v < 0);
      if (bad !== undefined) throw new CliError(`${data.source}: label ${bad} is not a class index (an integer ≥ 0), as ${loss} needs`);
      const top = classes[classes.length - 1]!;
      if (top >= units) {
        const names = data.classNames ? ` (${data.classNames.join(', ')})` : '';
        throw new CliError(`${data.source}: labels go up to ${top}${names}, but ${model} has ${units} output classes (0..${units - 1})`);
      }
      return { y: data.y };
    }
    case 'binary_crossentropy': {
      if (units !== 1) throw new CliError(`${model} has ${units} binary outputs, but a CSV has one label column; use a 1-unit sigmoid output`);
      if (positiveClass !== undefined) {
        const k = resolveClass(positiveClass, data);
        if (!classes.includes(k)) throw new CliError(`--positive-class ${positiveClass}: no row has label ${k} (labels: ${listed(classes)})`);
        const name = data.classNames?.[k] ? ` (${data.classNames[k]})` : '';
        return { y: data.y.map((v) => (v === k ? 1 : 0)), note: `one-vs-rest: label ${k}${name} → 1, the other ${classes.length - 1} classes → 0` };
      }
      if (classes.some((v) => v !== 0 && v !== 1)) {
        throw new CliError(
          `${data.source}: ${classes.length} distinct labels (${listed(classes)}), but binary_crossentropy needs 0/1 labels; ` +
            `pass --positive-class K to train class K against the rest`,
        );
      }
      return { y: data.y };
    }
    case 'mse':
    case 'mae':
    case 'huber':
      if (units !== 1) throw new CliError(`${model} has ${units} outputs, but a CSV has one label column; use a 1-unit output for ${loss}`);
      return { y: data.y };
  }
}
