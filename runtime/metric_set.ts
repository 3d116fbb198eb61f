// The metrics fit and evaluate report besides the loss, as Keras names them: accuracies (by the
// loss, binary, categorical, sparse, top-k), regression errors (MAE, MSE, RMSE, R²) and, for a
// binary output, precision, recall and ROC AUC. Each accumulates over batches and reports the
// value over all rows seen (AUC is exact: it keeps every score and ranks them).
import { InputError } from './errors.ts';
import type { OutputSpec } from './manifest.ts';
import { countCorrect } from './metrics.ts';
import { classesOf, positionsPerRow } from './tensor.ts';

export const METRIC_NAMES = [
  'accuracy',
  'binary_accuracy',
  'categorical_accuracy',
  'sparse_categorical_accuracy',
  'top_k_accuracy',
  'mae',
  'mse',
  'rmse',
  'r2',
  'precision',
  'recall',
  'auc',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
/** A metric by name; top-k accuracy takes its k (default 5, as Keras). */
export type MetricSpec = MetricName | { readonly name: 'top_k_accuracy'; readonly k: number };

type Values = Float32Array | Float64Array;

interface Accumulator {
  add(prediction: Values, labels: Float64Array, rows: number): void;
  result(): number;
}

const isRegression = (o: OutputSpec): boolean => ['mse', 'mae', 'huber'].includes(o.loss.type);
/** Class index labels (sparse categorical cross-entropy) rather than a row of targets per prediction row. */
const isSparse = (o: OutputSpec): boolean => o.labels.dtype === 'i32';
const threshold = (o: OutputSpec): number => (o.loss.fromLogits ? 0 : 0.5);

function argmax(values: Values | Float64Array, row: number, width: number): number {
  let best = 0;
  for (let c = 1; c < width; c++) if (values[row * width + c]! > values[row * width + best]!) best = c;
  return best;
}

/** Rows right / rows seen. */
function fraction(correctOf: (prediction: Values, labels: Float64Array, rows: number) => number): Accumulator {
  let correct = 0;
  let seen = 0;
  return {
    add(prediction, labels, rows) {
      correct += correctOf(prediction, labels, rows);
      seen += rows;
    },
    result: () => correct / seen,
  };
}

/** Per column: Σ|e|, Σe², Σy, Σy² (R² per column, averaged as Keras's R2Score does). */
function errors(width: number, pick: (sums: { abs: number; sq: number; y: number; y2: number; n: number }[]) => number): Accumulator {
  const sums = Array.from({ length: width }, () => ({ abs: 0, sq: 0, y: 0, y2: 0, n: 0 }));
  return {
    add(prediction, labels, rows) {
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < width; c++) {
          const y = labels[r * width + c]!;
          const e = prediction[r * width + c]! - y;
          const s = sums[c]!;
          s.abs += Math.abs(e);
          s.sq += e * e;
          s.y += y;
          s.y2 += y * y;
          s.n++;
        }
      }
    },
    result: () => pick(sums),
  };
}

function binaryCounts(o: OutputSpec, pick: (tp: number, fp: number, fn: number) => number): Accumulator {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const t = threshold(o);
  return {
    add(prediction, labels, rows) {
      for (let i = 0; i < rows; i++) {
        const predicted = prediction[i]! > t;
        const actual = labels[i]! > 0.5;
        if (predicted && actual) tp++;
        else if (predicted) fp++;
        else if (actual) fn++;
      }
    },
    result: () => pick(tp, fp, fn),
  };
}

/** ROC AUC: the probability that a positive row scores above a negative one (ties count half), by ranks. */
function rocAuc(): Accumulator {
  const scores: number[] = [];
  const positive: boolean[] = [];
  return {
    add(prediction, labels, rows) {
      for (let i = 0; i < rows; i++) {
        scores.push(prediction[i]!);
        positive.push(labels[i]! > 0.5);
      }
    },
    result() {
      const order = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
      let rankSum = 0;
      let positives = 0;
      for (let start = 0; start < order.length; ) {
        let end = start;
        while (end + 1 < order.length && scores[order[end + 1]!] === scores[order[start]!]) end++;
        const rank = (start + end) / 2 + 1;
        for (let k = start; k <= end; k++) {
          if (!positive[order[k]!]) continue;
          rankSum += rank;
          positives++;
        }
        start = end + 1;
      }
      const negatives = order.length - positives;
      if (positives === 0 || negatives === 0) return NaN;
      return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
    },
  };
}

/** The log name of a metric: its name, `top_<k>_accuracy` for top-k. */
export function metricLabel(spec: MetricSpec): string {
  return typeof spec === 'string' ? spec : `top_${spec.k}_accuracy`;
}

function accumulator(spec: MetricSpec, o: OutputSpec): Accumulator {
  const name = typeof spec === 'string' ? spec : spec.name;
  // Per position where the prediction is [N, steps, width]: MetricSet hands in n·steps rows.
  const width = classesOf(o.prediction.shape);
  const fail = (why: string): never => {
    throw new InputError(`metric '${metricLabel(spec)}' for output '${o.name}' (${o.loss.type}, ${width} wide): ${why}`);
  };
  const needTargets = (): void => {
    if (isSparse(o)) fail('needs a target value per prediction; this output takes class indices');
  };
  const needBinary = (): void => {
    if (width !== 1 || isRegression(o) || isSparse(o)) fail('needs one binary output (a sigmoid unit with 0/1 labels)');
  };
  switch (name) {
    case 'accuracy':
      if (isRegression(o)) fail('accuracy needs a classification loss; use mae, mse, rmse or r2');
      return fraction((p, y, rows) => countCorrect(o.loss, p, y, rows, width)!);
    case 'binary_accuracy':
      needTargets();
      return fraction((p, y) => {
        let right = 0;
        for (let i = 0; i < p.length; i++) if (p[i]! > threshold(o) === y[i]! > 0.5) right++;
        return right / width;
      });
    case 'categorical_accuracy':
      needTargets();
      return fraction((p, y, rows) => {
        let right = 0;
        for (let r = 0; r < rows; r++) if (argmax(p, r, width) === argmax(y, r, width)) right++;
        return right;
      });
    case 'sparse_categorical_accuracy':
      if (!isSparse(o)) fail('needs class-index labels (sparse_categorical_crossentropy)');
      return fraction((p, y, rows) => {
        let right = 0;
        for (let r = 0; r < rows; r++) if (argmax(p, r, width) === y[r]) right++;
        return right;
      });
    case 'top_k_accuracy': {
      const k = typeof spec === 'string' ? 5 : spec.k;
      if (!Number.isInteger(k) || k < 1) fail(`k must be a positive integer, got ${k}`);
      if (isRegression(o) || o.loss.type === 'binary_crossentropy') fail('needs a categorical output');
      return fraction((p, y, rows) => {
        let right = 0;
        for (let r = 0; r < rows; r++) {
          const label = isSparse(o) ? y[r]! : argmax(y, r, width);
          const score = p[r * width + label]!;
          let above = 0;
          for (let c = 0; c < width; c++) if (p[r * width + c]! > score) above++;
          if (above < k) right++;
        }
        return right;
      });
    }
    case 'mae':
      needTargets();
      return errors(width, (s) => s.reduce((a, c) => a + c.abs, 0) / s.reduce((a, c) => a + c.n, 0));
    case 'mse':
      needTargets();
      return errors(width, (s) => s.reduce((a, c) => a + c.sq, 0) / s.reduce((a, c) => a + c.n, 0));
    case 'rmse':
      needTargets();
      return errors(width, (s) => Math.sqrt(s.reduce((a, c) => a + c.sq, 0) / s.reduce((a, c) => a + c.n, 0)));
    case 'r2':
      needTargets();
      return errors(width, (s) => s.reduce((a, c) => a + (1 - c.sq / (c.y2 - (c.y * c.y) / c.n)), 0) / s.length);
    case 'precision':
      needBinary();
      return binaryCounts(o, (tp, fp) => (tp + fp === 0 ? 0 : tp / (tp + fp)));
    case 'recall':
      needBinary();
      return binaryCounts(o, (tp, _fp, fn) => (tp + fn === 0 ? 0 : tp / (tp + fn)));
    case 'auc':
      needBinary();
      return rocAuc();
    default:
      throw new InputError(`unknown metric ${JSON.stringify(name)}; expected one of ${METRIC_NAMES.join(', ')}`);
  }
}

/** The metrics of every output, accumulated over batches. Names: the metric's label, `<output>.<label>` with several outputs. */
export class MetricSet {
  private readonly entries: { readonly name: string; readonly output: number; readonly positions: number; readonly acc: Accumulator }[];

  constructor(specs: readonly MetricSpec[], outputs: readonly OutputSpec[]) {
    const several = outputs.length > 1;
    this.entries = outputs.flatMap((o, k) => specs.map((spec) => ({ name: several ? `${o.name}.${metricLabel(spec)}` : metricLabel(spec), output: k, positions: positionsPerRow(o.prediction.shape), acc: accumulator(spec, o) })));
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  add(predictions: readonly Values[], labels: readonly Float64Array[], rows: number): void {
    for (const e of this.entries) e.acc.add(predictions[e.output]!, labels[e.output]!, rows * e.positions);
  }

  results(): Record<string, number> {
    return Object.fromEntries(this.entries.map((e) => [e.name, e.acc.result()]));
  }
}
