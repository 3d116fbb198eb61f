// `nabla evaluate <model.json|trainer.wasm> --weights w.safetensors --data x.csv [--rows test]`:
// loss and metrics of saved weights on a labelled CSV, preprocessed as train did; no training.
import type { MetricSpec } from '../../runtime/metric_set.ts';
import { parseCommand } from './args.ts';
import { CliError, UsageError, type Io } from './errors.ts';
import { evaluationText } from './format.ts';
import { prepareLabels } from './labels.ts';
import { subsetOf } from './predict.ts';
import { loadSavedModel, modelRows } from './saved-model.ts';
import { usage } from './usage.ts';

/** What evaluate reports besides the loss (and accuracy), by the model's loss. */
const METRICS_BY_LOSS: Readonly<Record<string, readonly MetricSpec[]>> = {
  binary_crossentropy: ['precision', 'recall', 'auc'],
  sparse_categorical_crossentropy: [{ name: 'top_k_accuracy', k: 2 }],
  mse: ['mae', 'rmse', 'r2'],
  mae: ['mae', 'rmse', 'r2'],
  huber: ['mae', 'rmse', 'r2'],
};

const flags = {
  weights: { type: 'string' },
  data: { type: 'string' },
  rows: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function evaluateCommand(args: readonly string[], io: Io): Promise<void> {
  const parsed = parseCommand('evaluate', args, flags, ['<model.json|trainer.wasm>']);
  if (parsed.help) return io.out(usage.evaluate);
  const v = parsed.values;
  if (v.weights === undefined) throw new UsageError('evaluate: --weights <file.safetensors> is required', 'evaluate');
  if (v.data === undefined) throw new UsageError('evaluate: --data <file.csv> is required', 'evaluate');
  const subset = subsetOf(v.rows, 'evaluate');
  const saved = await loadSavedModel(parsed.positionals[0]!, v.weights, io);
  const { data, samples, labelled } = modelRows(saved, v.data, subset);
  if (!labelled) throw new CliError(`${v.data}: no label column (${saved.preprocessing.features} columns of features only); evaluate needs the labels`);
  const p = saved.preprocessing;
  const labels = prepareLabels(saved.trainer.manifest, { source: data.source, y: samples.y, ...(p.classNames ? { classNames: p.classNames } : {}) }, p.positiveClass === undefined ? undefined : String(p.positiveClass));
  const metrics = METRICS_BY_LOSS[saved.trainer.manifest.loss.type] ?? [];
  const evaluation = saved.trainer.evaluate({ shape: [samples.rows, samples.features], data: samples.x }, labels.y, { metrics });
  io.out(`${subset === 'all' ? 'all rows' : `${subset} rows`} (${samples.rows})  ${evaluationText(evaluation, samples.rows)}`);
  if (evaluation.metrics) io.out(`metrics   ${Object.entries(evaluation.metrics).map(([name, value]) => `${name} ${value.toPrecision(5)}`).join('  ')}`);
}
