// `nabla predict <model.json|trainer.wasm> --weights w.safetensors --data x.csv [--out preds.csv] [--proba]`:
// one row of output per input row — the class (its name where train knew it) or the value(s) —
// with the CSV's features preprocessed as train did.
import type { OutputSpec } from '../../runtime/manifest.ts';
import { parseCommand } from './args.ts';
import { CliError, UsageError, type Io } from './errors.ts';
import { checkWritable, writeAtomic } from './files.ts';
import type { Preprocessing, Subset } from './preprocessing.ts';
import { loadSavedModel, modelRows } from './saved-model.ts';
import { usage } from './usage.ts';

const flags = {
  weights: { type: 'string' },
  data: { type: 'string' },
  out: { type: 'string', short: 'o' },
  proba: { type: 'boolean' },
  rows: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function subsetOf(text: string | undefined, command: string): Subset {
  if (text === undefined) return 'all';
  if (text === 'all' || text === 'test' || text === 'train') return text;
  throw new UsageError(`--rows: expected all, test or train, got '${text}'`, command);
}

/** A CSV field: quoted when it holds a comma, a quote or a line break. */
const field = (text: string): string => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** The CSV lines (header first) of an output's predictions for `rows` rows. */
export function predictionLines(output: OutputSpec, values: Float32Array, rows: number, p: Preprocessing, proba: boolean): string[] {
  const width = values.length / rows;
  const loss = output.loss;
  const row = (r: number): number[] => Array.from(values.subarray(r * width, (r + 1) * width));
  const number = (v: number): string => String(Math.fround(v));
  switch (loss.type) {
    case 'sparse_categorical_crossentropy':
    case 'categorical_crossentropy': {
      const name = (k: number): string => p.classNames?.[k] ?? String(k);
      const probabilities = (v: number[]): number[] => {
        if (!loss.fromLogits) return v;
        const top = Math.max(...v);
        const e = v.map((z) => Math.exp(z - top));
        const sum = e.reduce((a, b) => a + b, 0);
        return e.map((z) => z / sum);
      };
      const header = ['prediction', ...(proba ? Array.from({ length: width }, (_, k) => `p_${name(k)}`) : [])];
      const lines = [header.map(field).join(',')];
      for (let r = 0; r < rows; r++) {
        const v = probabilities(row(r));
        const best = v.indexOf(Math.max(...v));
        lines.push([field(name(best)), ...(proba ? v.map(number) : [])].join(','));
      }
      return lines;
    }
    case 'binary_crossentropy': {
      // One-vs-rest: 1 is the positive class; its name where train knew it.
      const positive = p.positiveClass !== undefined ? (p.classNames?.[p.positiveClass] ?? String(p.positiveClass)) : undefined;
      const lines = [['prediction', ...(proba ? ['p_1'] : [])].join(',')];
      for (let r = 0; r < rows; r++) {
        const probability = loss.fromLogits ? sigmoid(values[r]!) : values[r]!;
        const label = probability > 0.5 ? (positive ?? '1') : positive !== undefined ? `not ${positive}` : '0';
        lines.push([field(label), ...(proba ? [number(probability)] : [])].join(','));
      }
      return lines;
    }
    case 'mse':
    case 'mae':
    case 'huber': {
      const header = width === 1 ? ['prediction'] : Array.from({ length: width }, (_, k) => `prediction_${k}`);
      return [header.join(','), ...Array.from({ length: rows }, (_, r) => row(r).map(number).join(','))];
    }
  }
}

export async function predictCommand(args: readonly string[], io: Io): Promise<void> {
  const parsed = parseCommand('predict', args, flags, ['<model.json|trainer.wasm>']);
  if (parsed.help) return io.out(usage.predict);
  const v = parsed.values;
  if (v.weights === undefined) throw new UsageError('predict: --weights <file.safetensors> is required', 'predict');
  if (v.data === undefined) throw new UsageError('predict: --data <file.csv> is required', 'predict');
  const subset = subsetOf(v.rows, 'predict');
  if (v.out !== undefined) checkWritable(v.out, '--out');
  const saved = await loadSavedModel(parsed.positionals[0]!, v.weights, io);
  const { samples } = modelRows(saved, v.data, subset);
  const { trainer } = saved;
  if (v.proba && trainer.manifest.outputs[0]!.loss.type.match(/^(mse|mae|huber)$/)) throw new CliError(`--proba: model '${trainer.manifest.model}' is a regression (${trainer.manifest.loss.type}); it predicts values, not probabilities`);
  const predictions = trainer.predict({ shape: [samples.rows, samples.features], data: samples.x });
  const lines = predictionLines(trainer.manifest.outputs[0]!, predictions.data, samples.rows, saved.preprocessing, v.proba ?? false);
  if (v.out === undefined) {
    for (const line of lines) io.out(line);
    return;
  }
  writeAtomic(v.out, new TextEncoder().encode(lines.join('\n') + '\n'));
  io.err(`predicted ${samples.rows} rows → ${v.out}`);
}
