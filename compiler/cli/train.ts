// `nabla train <model.json> --data <file.csv>`: compile, split, standardise, fit, test.
import type { BatchLog, EpochLog, History } from '../../runtime/fit.ts';
import type { Evaluation } from '../../runtime/runner.ts';
import { loadTrainer, type ThreadCount, type Trainer } from '../../runtime/trainer.ts';
import { loadCheckpoint, saveCheckpoint } from '../../runtime/checkpoint.ts';
import { decodeSafetensors } from '../../runtime/safetensors.ts';
import { InputError } from '../../runtime/errors.ts';
import { NonFiniteError } from '../../runtime/guard.ts';
import { rowWidth, type TensorLike } from '../../runtime/tensor.ts';
import { fraction, nonNegativeInt, parseCommand, positiveInt, seedValue } from './args.ts';
import { compileSpec } from './compile.ts';
import type { CompileStage } from '../compile.ts';
import { loadCsv, type Dataset } from './csv.ts';
import { CliError, UsageError, type Io } from './errors.ts';
import { checkWritable, readBytes, readJson, writeAtomic } from './files.ts';
import { trainingReport } from '../report/training.ts';
import { bytesText, evaluationText, lossText, paramCount, table } from './format.ts';
import { prepareLabels, resolveClass } from './labels.ts';
import { fitStandardizer, standardize, trainTestSplit, type Samples, type Standardizer } from './preprocess.ts';
import { decodePreprocessing, encodePreprocessing, scalerOf, type Preprocessing } from './preprocessing.ts';
import { usage } from './usage.ts';

export interface TrainOptions {
  readonly spec: string;
  readonly data: string;
  /** Default 10. */
  readonly epochs?: number;
  readonly batchSize?: number;
  /** Default 0.2. */
  readonly testSplit?: number;
  readonly validationSplit?: number;
  /** Default: the spec's seed. Seeds the initial weights, the test split and the shuffles. */
  readonly seed?: number;
  /** Default true. */
  readonly standardize?: boolean;
  readonly positiveClass?: string;
  /** The target column, by header name or 1-based number. Default: the last column. */
  readonly target?: string;
  /** Fill missing feature values (the column's mean; the most frequent category) instead of refusing them. */
  readonly impute?: boolean;
  /** Initial weights: .json (nested arrays by name) or .safetensors. */
  readonly weights?: string;
  /** Write the trained weights (and step count) here as safetensors. */
  readonly save?: string;
  /** Compile in gradient-flow telemetry and print it per epoch. Default false (implied by `report`). */
  readonly diagnostics?: boolean;
  /** Write an HTML report (loss curves, gradient norms) here. */
  readonly report?: string;
  /** In the report, show the training curve shifted half an epoch left at first. */
  readonly shiftTrain?: boolean;
  /** Print only the test result. */
  readonly quiet?: boolean;
  /** Threads to train on (default 1): compiles the threaded builds and runs them (`loadTrainer`'s `threads`). */
  readonly threads?: ThreadCount;
}

export interface TrainResult {
  readonly trainer: Trainer;
  readonly history: History;
  /** Undefined with a test split of 0. */
  readonly test?: Evaluation & { readonly rows: number };
}

const silent: Io = { out: () => {}, err: () => {} };

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function epochLine(log: EpochLog, epochs: number): string {
  const width = String(epochs).length;
  const parts = [`epoch ${String(log.epoch).padStart(width)}/${epochs}`, `loss ${lossText(log.loss).padEnd(8)}`];
  if (log.accuracy !== undefined) parts.push(`accuracy ${log.accuracy.toFixed(4)}`);
  if (log.valLoss !== undefined) parts.push(`val_loss ${lossText(log.valLoss).padEnd(8)}`);
  if (log.valAccuracy !== undefined) parts.push(`val_accuracy ${log.valAccuracy.toFixed(4)}`);
  parts.push(`${(log.seconds * 1000).toFixed(1)} ms`);
  return parts.join('  ');
}

const short = (v: number): string => (v === 0 ? '0' : v.toExponential(1));

/** Per layer: its weight's gradient norm and update ratio, its activations' mean ± std and dead/saturated share. */
function diagnosticsLines(log: EpochLog): string[] {
  const d = log.diagnostics;
  if (!d) return [];
  return table(
    Object.entries(d.layers).map(([name, l]) => {
      const p = d.params[`${name}.weight`];
      const cells = [name, `‖∇W‖ ${p ? short(p.gradNorm) : '—'}`, `‖ΔW‖/‖W‖ ${p ? short(p.updateRatio) : '—'}`, `act ${l.mean.toFixed(3)} ± ${l.std.toFixed(3)}`];
      if (l.deadFraction !== undefined) cells.push(`dead ${(l.deadFraction * 100).toFixed(0)}%`);
      if (l.saturatedFraction !== undefined) cells.push(`saturated ${(l.saturatedFraction * 100).toFixed(0)}%`);
      return cells;
    }),
    '    ',
  );
}

function dataLine(data: Dataset): string {
  const classes = data.classNames ? `; classes ${data.classNames.map((n, k) => `${k} ${n}`).join(', ')}` : '';
  return `data      ${data.source}: ${plural(data.rows, 'row')} × ${plural(data.features, 'feature')}${classes}`;
}

/** A safetensors file's metadata, read before the compile (the file is checked whole when loaded). */
function metadataOf(bytes: Uint8Array, path: string): Readonly<Record<string, string>> {
  try {
    return decodeSafetensors(bytes).metadata;
  } catch (err) {
    if (err instanceof InputError) throw new CliError(`${path}: ${err.message}`);
    throw err;
  }
}

/** How many epoch lines to print at most without --verbose: then one every few epochs, and the last. */
const EPOCH_LINES = 50;

/** The live line within an epoch: batches done, rows per second, time left in the epoch, running loss. */
function batchStatus(log: BatchLog, epochs: number, rowsPerSecond: number, batchSize: number): string {
  const left = ((log.batches - log.batch) * batchSize) / Math.max(rowsPerSecond, 1e-9);
  return `epoch ${log.epoch}/${epochs}  batch ${log.batch}/${log.batches}  ${Math.round(rowsPerSecond).toLocaleString('en-US')} rows/s  ETA ${left.toFixed(1)} s  loss ${lossText(log.meanLoss)}`;
}

/** Runs a whole training session, reporting through `io` (silent by default). */
export async function train(options: TrainOptions, given: Io = silent): Promise<TrainResult> {
  // --quiet: the test line alone (train prints it through `result`); errors still go to stderr.
  const io: Io = options.quiet ? { out: () => {}, err: given.err } : given;
  const result = (line: string): void => given.out(line);
  // Every file is read, and every output place checked, before the (slower) compile and training, so a typo fails at once.
  if (options.save !== undefined) checkWritable(options.save, '--save');
  if (options.report !== undefined) checkWritable(options.report, '--report');
  const spec = readJson(options.spec);
  const safetensors = options.weights?.endsWith('.safetensors') ?? false;
  const weights = options.weights === undefined ? undefined : safetensors ? readBytes(options.weights) : readJson(options.weights);
  // Weights saved by train carry the column layout they were trained on: new data is read the same way.
  const layout = safetensors ? decodePreprocessing(metadataOf(weights as Uint8Array, options.weights!), options.weights!)?.schema : undefined;
  const data = loadCsv(options.data, layout ? { schema: layout } : { ...(options.target !== undefined ? { target: options.target } : {}), impute: options.impute ?? false });
  if (!data.labelled) throw new CliError(`${data.source}: no target column ('${layout!.target.name}'); train needs the targets`);
  const testSplit = options.testSplit ?? 0.2;
  if (testSplit > 0 && data.rows < 2) throw new CliError(`${data.source}: one row cannot be split into training and test sets; pass --test-split 0`);

  const diagnostics = options.diagnostics ?? options.report !== undefined;
  const threads = options.threads ?? 1;
  const compileStarted = performance.now();
  io.out(`compile   ${options.spec} ...`);
  // On a terminal: the stage running and the time so far, redrawn as each stage begins (most
  // stages are synchronous, so a timer alone would only fire between them) and every 250 ms.
  let stage: CompileStage = 'lower';
  const show = (): void => io.status?.(`compile   ${options.spec}: ${stage}, ${((performance.now() - compileStarted) / 1000).toFixed(1)} s`);
  const ticking = io.status ? setInterval(show, 250) : undefined;
  let compiled;
  try {
    compiled = await compileSpec(spec, options.spec, {
      diagnostics,
      threaded: threads !== 1,
      onStage: (next) => {
        stage = next;
        show();
      },
    });
  } finally {
    clearInterval(ticking);
  }
  const trainer = await loadTrainer(compiled.wasm, { threads });
  const m = trainer.manifest;
  io.out(
    `model     ${m.model}: ${paramCount(m).toLocaleString('en-US')} parameters, ${m.loss.type}, ${m.optimizer.type} lr ${m.optimizer.learningRate}` +
      `; compiled in ${compiled.timings.totalMs.toFixed(0)} ms to ${bytesText(compiled.wasm.length)} of wasm`,
  );
  if (threads !== 1) {
    const { threads: running, reason } = trainer.threading;
    io.out(`threads   ${running}${reason === undefined ? '' : ` (${reason})`}`);
  }
  const seed = options.seed ?? m.seed;
  if (options.seed !== undefined) trainer.init(seed);
  let saved: Preprocessing | undefined;
  if (weights !== undefined) {
    try {
      if (safetensors) {
        const info = await loadCheckpoint(trainer, weights as Uint8Array);
        if (!info.sameSpec) io.err(`warning: ${options.weights} was saved from a different model spec (its tensors fit, so they are loaded)`);
        saved = decodePreprocessing(info.metadata, options.weights!);
      } else trainer.setWeights(weights as Record<string, TensorLike>);
    } catch (err) {
      if (err instanceof InputError) throw new CliError(`${options.weights}: ${err.message}`);
      throw err;
    }
    io.out(`weights   from ${options.weights}`);
  }

  // One CSV holds one feature block and one label column: it feeds single-input, single-output models.
  if (m.inputs.length !== 1 || m.outputs.length !== 1) {
    const parts = [`${m.inputs.length} input(s) (${m.inputs.map((t) => t.name).join(', ')})`, `${m.outputs.length} output(s) (${m.outputs.map((o) => o.name).join(', ')})`];
    throw new CliError(`model '${m.model}' has ${parts.join(' and ')}; nabla train feeds one input and one label column from a CSV. Train it through the API: trainer.fit({ x: { name: rows, ... }, y: { name: targets, ... } }) (see README, "Functional API")`);
  }
  io.out(dataLine(data));
  const inputWidth = rowWidth(m.input.shape);
  if (data.features !== inputWidth) {
    throw new CliError(`${data.source}: ${data.features} feature columns (plus the label), but model '${m.model}' takes ${inputWidth} features`);
  }
  if (saved && saved.features !== data.features) throw new CliError(`${data.source}: ${data.features} feature columns, but ${options.weights} was trained on ${saved.features}`);
  const positiveClass = options.positiveClass ?? (saved?.positiveClass !== undefined ? String(saved.positiveClass) : undefined);
  const labels = prepareLabels(m, data, positiveClass);
  if (labels.note) io.out(`labels    ${labels.note}`);

  const split = trainTestSplit({ ...data, y: labels.y }, testSplit, seed);
  let trainSet: Samples = split.train;
  let testSet: Samples = split.test;
  io.out(`split     ${plural(trainSet.rows, 'training row')}, ${plural(testSet.rows, 'test row')} (test split ${testSplit}, seed ${seed})`);
  let scaler: Standardizer | undefined;
  const savedScaler = saved && scalerOf(saved);
  // Token ids are categories, not measurements: scaling them would make them other ids.
  const tokenIds = m.input.dtype === 'i32';
  if (tokenIds) {
    io.out(`scaling   none: input '${m.input.name}' holds token ids`);
  } else if ((options.standardize ?? true) && savedScaler) {
    // The weights were trained on features scaled this way: new data gets the same scaling.
    scaler = savedScaler;
    trainSet = standardize(trainSet, scaler);
    testSet = standardize(testSet, scaler);
    io.out(`scaling   standardised each feature with the statistics saved in ${options.weights}`);
  } else if (options.standardize ?? true) {
    scaler = fitStandardizer(trainSet);
    trainSet = standardize(trainSet, scaler);
    testSet = standardize(testSet, scaler);
    io.out(`scaling   standardised each feature to mean 0, std 1 with the training rows' statistics (--no-standardize to skip)`);
  } else {
    io.out('scaling   none (--no-standardize): features as in the file');
  }

  const epochs = options.epochs ?? 10;
  const validation = options.validationSplit ? `, last ${options.validationSplit} of training rows for validation` : '';
  io.out(`training  ${plural(epochs, 'epoch')}, batch ${options.batchSize ?? m.batchSize}${validation}`);
  const writeReport = (history: History, extra: { test?: Evaluation; stopped?: string } = {}): void => {
    if (options.report === undefined) return;
    const notes = [`${dataLine(data)}`, `${m.optimizer.type} lr ${m.optimizer.learningRate}, batch ${options.batchSize ?? m.batchSize}, seed ${seed}`];
    if (extra.stopped) notes.push(`Training stopped: ${extra.stopped}`);
    const html = trainingReport({ model: m.model, history, notes, shiftTrain: options.shiftTrain ?? false, ...(extra.test ? { test: extra.test } : {}) });
    writeAtomic(options.report, new TextEncoder().encode(html));
    io.out(`report    ${options.report}`);
  };
  let history: History;
  const batchSize = options.batchSize ?? m.batchSize;
  const every = Math.max(1, Math.ceil(epochs / EPOCH_LINES));
  if (every > 1 && !io.verbose) io.out(`progress  one line every ${every} epochs (--verbose: every epoch)`);
  let epochStarted = 0;
  let lastStatus = 0;
  try {
    history = trainer.fit(
      { x: { shape: [trainSet.rows, trainSet.features], data: trainSet.x }, y: trainSet.y },
      {
        epochs,
        seed,
        batchSize: options.batchSize,
        validationSplit: options.validationSplit,
        onEpochBegin: () => {
          epochStarted = performance.now();
        },
        onBatchEnd: (log) => {
          const now = performance.now();
          if (!io.status || now - lastStatus < 100) return;
          lastStatus = now;
          const rows = (log.batch - 1) * batchSize + log.size;
          io.status(batchStatus(log, epochs, rows / ((now - epochStarted) / 1000), batchSize));
        },
        onEpochEnd: (log) => {
          if (io.verbose || log.epoch % every === 0 || log.epoch === epochs || log.epoch === 1) io.out(epochLine(log, epochs));
          if (options.diagnostics) for (const line of diagnosticsLines(log)) io.out(line);
        },
      },
    );
  } catch (err) {
    // The epochs before a NaN are worth seeing: the report shows how the gradients got there.
    if (err instanceof NonFiniteError && err.history) writeReport(err.history, { stopped: err.message });
    throw err;
  }
  if (options.save !== undefined) {
    const steps = epochs * Math.ceil(Math.floor(trainSet.rows * (1 - (options.validationSplit ?? 0))) / (options.batchSize ?? m.batchSize));
    const preprocessing: Preprocessing = {
      features: data.features,
      ...(data.columns ? { columns: [...data.columns] } : {}),
      schema: data.schema as Preprocessing['schema'] & object,
      ...(scaler ? { standardize: { mean: Array.from(scaler.mean), std: Array.from(scaler.std) } } : {}),
      ...(data.classNames ? { classNames: [...data.classNames] } : {}),
      ...(positiveClass !== undefined ? { positiveClass: resolveClass(positiveClass, data) } : {}),
      ...(testSplit > 0 ? { split: { seed, testFraction: testSplit, rows: data.rows } } : {}),
    };
    writeAtomic(options.save, await saveCheckpoint(trainer, { step: steps, metadata: encodePreprocessing(preprocessing) }));
    io.out(`saved     ${options.save} (safetensors, ${plural(steps, 'step')})`);
  }
  if (testSet.rows === 0) {
    result('test      none (--test-split 0)');
    writeReport(history);
    return { trainer, history };
  }
  const evaluation = trainer.evaluate({ shape: [testSet.rows, testSet.features], data: testSet.x }, testSet.y);
  result(`test      ${evaluationText(evaluation, testSet.rows)}`);
  writeReport(history, { test: evaluation });
  return { trainer, history, test: { ...evaluation, rows: testSet.rows } };
}

const flags = {
  data: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  'test-split': { type: 'string' },
  'validation-split': { type: 'string' },
  seed: { type: 'string' },
  'no-standardize': { type: 'boolean' },
  'positive-class': { type: 'string' },
  target: { type: 'string' },
  impute: { type: 'boolean' },
  weights: { type: 'string' },
  save: { type: 'string' },
  diagnostics: { type: 'boolean' },
  report: { type: 'string' },
  'shift-train': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  threads: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** --threads: a positive integer or 'auto'. */
function threadCount(text: string | undefined): ThreadCount | undefined {
  return text === 'auto' ? 'auto' : positiveInt('--threads', text, 'train');
}

export async function trainCommand(args: readonly string[], io: Io): Promise<void> {
  const parsed = parseCommand('train', args, flags, ['<model.json>']);
  if (parsed.help) return io.out(usage.train);
  const v = parsed.values;
  if (v.data === undefined) throw new UsageError('train: --data <file.csv> is required', 'train');
  await train(
    {
      spec: parsed.positionals[0]!,
      data: v.data,
      epochs: nonNegativeInt('--epochs', v.epochs, 'train'),
      batchSize: positiveInt('--batch-size', v['batch-size'], 'train'),
      testSplit: fraction('--test-split', v['test-split'], 'train'),
      validationSplit: fraction('--validation-split', v['validation-split'], 'train'),
      seed: seedValue('--seed', v.seed, 'train'),
      standardize: !v['no-standardize'],
      positiveClass: v['positive-class'],
      ...(v.target !== undefined ? { target: v.target } : {}),
      impute: v.impute ?? false,
      weights: v.weights,
      save: v.save,
      ...(v.diagnostics !== undefined ? { diagnostics: v.diagnostics } : {}),
      report: v.report,
      shiftTrain: v['shift-train'] ?? false,
      quiet: v.quiet ?? false,
      ...(v.threads !== undefined ? { threads: threadCount(v.threads) } : {}),
    },
    io,
  );
}
