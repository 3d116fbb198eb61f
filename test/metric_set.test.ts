// Each metric against a float64 reference written here from its definition (AUC from all
// positive–negative pairs, R² from the textbook sums, top-k by sorting), on random predictions
// fed in uneven batches; then through fit (training and validation rows) and evaluate.
import { describe, expect, it } from 'vitest';
import { interpret } from '../compiler/interpret/interpreter.ts';
import type { OutputSpec } from '../runtime/manifest.ts';
import { MetricSet, type MetricSpec } from '../runtime/metric_set.ts';
import { Rng } from '../runtime/prng.ts';
import { randomMatrix } from './support/data.ts';

function output(loss: OutputSpec['loss']['type'], width: number, fromLogits = false): OutputSpec {
  const sparse = loss === 'sparse_categorical_crossentropy';
  return {
    name: 'out',
    prediction: { name: 'prediction', shape: ['N', width], dtype: 'f32' },
    labels: { name: 'labels', shape: ['N', sparse ? 1 : width], dtype: sparse ? 'i32' : 'f32' },
    loss: { type: loss, weight: 1, ...(fromLogits ? { fromLogits } : {}) },
    lossWeight: 1,
  };
}

/** Runs the set over `rows` rows in batches of 7, 1 and the rest. */
function measure(specs: readonly MetricSpec[], o: OutputSpec, p: Float64Array, y: Float64Array, rows: number): Record<string, number> {
  const set = new MetricSet(specs, [o]);
  const pw = p.length / rows;
  const yw = y.length / rows;
  for (const [start, count] of [[0, 7], [7, 1], [8, rows - 8]] as const) {
    set.add([p.subarray(start * pw, (start + count) * pw)], [y.subarray(start * yw, (start + count) * yw)], count);
  }
  return set.results();
}

const rng = new Rng(11, 0);
const uniform = (n: number): Float64Array => Float64Array.from({ length: n }, () => rng.uniform());
const rows = 40;

describe('metrics against float64 references', () => {
  it('regression: MAE, MSE, RMSE, R² (averaged over columns)', () => {
    const p = uniform(rows * 2).map((v) => v * 4 - 2);
    const y = uniform(rows * 2).map((v, i) => v + p[i]! * 0.8);
    const got = measure(['mae', 'mse', 'rmse', 'r2'], output('mse', 2), p, y, rows);
    const e = Array.from(p, (v, i) => v - y[i]!);
    const mse = e.reduce((a, v) => a + v * v, 0) / e.length;
    const r2 = [0, 1].map((c) => {
      const col = Array.from({ length: rows }, (_, r) => y[r * 2 + c]!);
      const mean = col.reduce((a, v) => a + v, 0) / rows;
      const res = col.reduce((a, v, r) => a + (v - p[r * 2 + c]!) ** 2, 0);
      const tot = col.reduce((a, v) => a + (v - mean) ** 2, 0);
      return 1 - res / tot;
    });
    expect(got['mae']).toBeCloseTo(e.reduce((a, v) => a + Math.abs(v), 0) / e.length, 12);
    expect(got['mse']).toBeCloseTo(mse, 12);
    expect(got['rmse']).toBeCloseTo(Math.sqrt(mse), 12);
    expect(got['r2']).toBeCloseTo((r2[0]! + r2[1]!) / 2, 10);
  });

  it('binary: accuracy, precision, recall, AUC (probabilities and logits)', () => {
    const p = uniform(rows);
    const y = p.map((v, i) => (v + (i % 3 === 0 ? 0.4 : -0.1) > 0.5 ? 1 : 0));
    const tp = Array.from(p).filter((v, i) => v > 0.5 && y[i] === 1).length;
    const fp = Array.from(p).filter((v, i) => v > 0.5 && y[i] === 0).length;
    const fn = Array.from(p).filter((v, i) => v <= 0.5 && y[i] === 1).length;
    let pairs = 0;
    let wins = 0;
    for (let i = 0; i < rows; i++) for (let j = 0; j < rows; j++) if (y[i] === 1 && y[j] === 0) (pairs++, (wins += p[i]! > p[j]! ? 1 : p[i] === p[j] ? 0.5 : 0));
    const reference = { accuracy: Array.from(p).filter((v, i) => (v > 0.5 ? 1 : 0) === y[i]).length / rows, precision: tp / (tp + fp), recall: tp / (tp + fn), auc: wins / pairs };
    const specs: MetricSpec[] = ['accuracy', 'binary_accuracy', 'precision', 'recall', 'auc'];
    const got = measure(specs, output('binary_crossentropy', 1), p, y, rows);
    expect(got).toEqual({ ...reference, binary_accuracy: reference.accuracy, auc: expect.closeTo(reference.auc, 12) });
    // Logits: thresholded at 0, and AUC unchanged by the monotone map.
    const logits = p.map((v) => Math.log(v / (1 - v)));
    const fromLogits = measure(specs, output('binary_crossentropy', 1, true), logits, y, rows);
    expect(fromLogits['precision']).toBe(reference.precision);
    expect(fromLogits['auc']).toBeCloseTo(reference.auc, 12);
  });

  it('categorical: sparse and one-hot accuracy, top-k', () => {
    const width = 5;
    const p = uniform(rows * width);
    const labels = Float64Array.from({ length: rows }, (_, r) => (r * 7) % width);
    const oneHot = new Float64Array(rows * width).map((_, i) => (labels[Math.floor(i / width)] === i % width ? 1 : 0));
    const rank = (r: number): number => {
      const row = Array.from(p.subarray(r * width, (r + 1) * width));
      return [...row].sort((a, b) => b - a).indexOf(row[labels[r]!]!);
    };
    const within = (k: number): number => Array.from({ length: rows }, (_, r) => rank(r) < k).filter(Boolean).length / rows;
    const sparse = measure(['accuracy', 'sparse_categorical_accuracy', { name: 'top_k_accuracy', k: 2 }, 'top_k_accuracy'], output('sparse_categorical_crossentropy', width), p, labels, rows);
    expect(sparse).toEqual({ accuracy: within(1), sparse_categorical_accuracy: within(1), top_2_accuracy: within(2), top_k_accuracy: 1 });
    const dense = measure(['categorical_accuracy', { name: 'top_k_accuracy', k: 3 }], output('categorical_crossentropy', width), p, oneHot, rows);
    expect(dense).toEqual({ categorical_accuracy: within(1), top_3_accuracy: within(3) });
  });

  it('a metric that does not fit the output is refused, naming both', () => {
    expect(() => new MetricSet(['auc'], [output('sparse_categorical_crossentropy', 3)])).toThrow(/metric 'auc' for output 'out' \(sparse_categorical_crossentropy, 3 wide\): needs one binary output/);
    expect(() => new MetricSet(['accuracy'], [output('mse', 1)])).toThrow(/accuracy needs a classification loss/);
    expect(() => new MetricSet(['f1' as MetricSpec], [output('mse', 1)])).toThrow(/unknown metric "f1"/);
  });

  it('fit reports them per epoch on training and validation rows; evaluate reports the same on the same rows', () => {
    const spec = {
      input: { shape: [3] },
      layers: [{ type: 'dense', name: 'out', units: 1 }],
      loss: { type: 'mse' },
      optimizer: { type: 'sgd', learningRate: 0.05 },
      batchSize: 8,
      seed: 2,
    };
    const model = interpret(spec);
    const x = randomMatrix(20, 3, 4);
    const y = x.map((row) => [2 * row[0]! - row[2]! + 1]);
    const history = model.fit({ x, y }, { epochs: 2, validationSplit: 0.2, metrics: ['mae', 'r2'], shuffle: false });
    const last = history.epochs[1]!;
    expect(Object.keys(last.metrics!)).toEqual(['mae', 'r2']);
    const val = { x: x.slice(16), y: y.slice(16) };
    const evaluation = model.evaluate(val.x, val.y, { metrics: ['mae', 'r2'] });
    expect(last.valMetrics).toEqual(evaluation.metrics);
    const predicted = model.predict(val.x).data;
    expect(evaluation.metrics!['mae']).toBeCloseTo(predicted.reduce((a, v, i) => a + Math.abs(v - val.y[i]![0]!), 0) / 4, 12);
  });
});
