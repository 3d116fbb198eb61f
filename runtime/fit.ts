// The training loop: epochs of seeded shuffled mini-batches, Keras-style validation split and a
// per-epoch history. Written once for every engine.
import { InputError } from './errors.ts';
import { permutation, Rng } from './prng.ts';
import { countCorrect } from './metrics.ts';
import { StepLabels, type Batch, type BatchEngine, type Evaluation } from './engine.ts';
import type { EpochLog, History } from './history.ts';
import type { BatchLog, Callback, TrainingModel } from './callbacks.ts';
import type { Signature } from './manifest.ts';
import { NonFiniteError, type StepGuard } from './guard.ts';
import { DiagnosticsMean } from './diagnostics.ts';
import { MetricSet, type MetricSpec } from './metric_set.ts';
import { classesOf, type Feed } from './tensor.ts';

/** The PRNG stream of fit's shuffles; parameter initialisers use streams 0, 1, 2, ... */
export const SHUFFLE_STREAM = 0xffffffff;

/** Inputs and targets: one tensor each, or `{ [name]: tensor }` for several inputs or outputs. */
export interface FitData {
  readonly x: Feed;
  readonly y: Feed;
}

export interface FitOptions {
  /** Passes over the training rows. Default 1; 0 trains nothing (an empty history). */
  readonly epochs?: number;
  /** Rows per step, at most the compiled batch size (the default). */
  readonly batchSize?: number;
  /** Reshuffle the training rows every epoch (seeded). Default true. */
  readonly shuffle?: boolean;
  /** Fraction of rows held out for validation: the last ones, before shuffling, as in Keras. Default 0. */
  readonly validationSplit?: number;
  /** Shuffle seed. Default: the model spec's seed. */
  readonly seed?: number;
  /** Metrics to report each epoch besides the loss, on the training steps (`metrics`) and the validation rows (`valMetrics`), as Keras's compile(metrics=...). */
  readonly metrics?: readonly MetricSpec[];
  /** Hooks called in order at each point of training (earlyStopping, reduceLROnPlateau, ... or your own). */
  readonly callbacks?: readonly Callback[];
  /** Called before every epoch (after the callbacks'). */
  readonly onEpochBegin?: Callback['onEpochBegin'];
  /** Called after every epoch, e.g. to print progress (after the callbacks'). */
  readonly onEpochEnd?: Callback['onEpochEnd'];
  readonly onBatchBegin?: Callback['onBatchBegin'];
  readonly onBatchEnd?: Callback['onBatchEnd'];
}

export interface AsyncFitOptions extends FitOptions {
  /** Aborting stops training between two steps: fitAsync rejects with the signal's reason, the weights those of the last whole step. */
  readonly signal?: AbortSignal;
  /** Yield to the event loop when a run of steps has taken this long. Default 10 ms. */
  readonly yieldEveryMs?: number;
}

export type { EpochLog, History } from './history.ts';
export type { BatchLog, Callback, TrainingModel } from './callbacks.ts';

interface Evaluator {
  readonly signature: Signature;
  readonly guard: StepGuard;
  evaluateRows(data: Batch, order?: Uint32Array, start?: number, count?: number, metrics?: readonly MetricSpec[]): Evaluation;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

type Checked = Pick<Required<FitOptions>, 'epochs' | 'batchSize' | 'shuffle' | 'validationSplit' | 'seed'>;

function checkOptions(options: FitOptions, signature: Signature, rows: number): Checked {
  const epochs = options.epochs ?? 1;
  const batchSize = options.batchSize ?? signature.batchSize;
  const validationSplit = options.validationSplit ?? 0;
  const seed = options.seed ?? signature.seed;
  if (!Number.isInteger(epochs) || epochs < 0) throw new InputError(`fit: epochs must be an integer ≥ 0, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > signature.batchSize) {
    throw new InputError(`fit: batchSize must be an integer in [1, ${signature.batchSize}] (the compiled batch size), got ${batchSize}`);
  }
  if (!(validationSplit >= 0 && validationSplit < 1)) throw new InputError(`fit: validationSplit must be in [0, 1), got ${validationSplit}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new InputError(`fit: seed must be an integer in [0, 2^32), got ${seed}`);
  const trainRows = Math.floor(rows * (1 - validationSplit));
  if (trainRows < 1) throw new InputError(`fit: validationSplit ${validationSplit} leaves no training rows of ${rows}`);
  return { epochs, batchSize, shuffle: options.shuffle ?? true, validationSplit, seed };
}

/** The callbacks of a fit, the option shorthands last, each point called in order. */
function hooksOf(options: FitOptions): Callback[] {
  const own: Callback = {
    ...(options.onEpochBegin ? { onEpochBegin: options.onEpochBegin } : {}),
    ...(options.onEpochEnd ? { onEpochEnd: options.onEpochEnd } : {}),
    ...(options.onBatchBegin ? { onBatchBegin: options.onBatchBegin } : {}),
    ...(options.onBatchEnd ? { onBatchEnd: options.onBatchEnd } : {}),
  };
  return [...(options.callbacks ?? []), own];
}

/**
 * The training loop as a generator: it yields after every step (where fitAsync may let the event
 * loop run or stop on an abort) and after every hook a callback has, and returns the history.
 * Callbacks may return a promise: the generator yields it, fitAsync awaits it, fit refuses it.
 */
export function* fitSteps<D extends Float32Array | Float64Array>(
  model: TrainingModel & Evaluator,
  engine: BatchEngine<D>,
  data: Batch,
  options: FitOptions,
): Generator<unknown, History, undefined> {
  const signature = engine.signature;
  const opts = checkOptions(options, signature, data.rows);
  const trainRows = Math.floor(data.rows * (1 - opts.validationSplit));
  const valRows = data.rows - trainRows;
  const single = signature.outputs.length === 1;
  const rng = new Rng(opts.seed, SHUFFLE_STREAM);
  const epochs: EpochLog[] = [];
  const hooks = hooksOf(options);
  const batches = Math.ceil(trainRows / opts.batchSize);
  const hasRate = signature.hyperparameters?.some((h) => h.name === 'learningRate') ?? false;
  // Checked before the first epoch: a metric that does not fit an output is refused at once.
  new MetricSet(options.metrics ?? [], signature.outputs);
  const labels = new StepLabels(data.y, opts.batchSize);
  const batchEnd = hooks.some((h) => h.onBatchEnd);
  model.stopTraining = false;

  for (let epoch = 1; epoch <= opts.epochs && !model.stopTraining; epoch++) {
    for (const h of hooks) if (h.onEpochBegin) yield h.onEpochBegin(epoch, model);
    const started = performance.now();
    const order = opts.shuffle ? permutation(trainRows, rng) : undefined;
    let lossSum = 0;
    let seen = 0;
    let correct: number | null = 0;
    const telemetry = new DiagnosticsMean();
    const metrics = new MetricSet(options.metrics ?? [], signature.outputs);
    for (let batch = 1; batch <= batches && !model.stopTraining; batch++) {
      const start = (batch - 1) * opts.batchSize;
      for (const h of hooks) if (h.onBatchBegin) yield h.onBatchBegin(batch, model);
      const n = Math.min(opts.batchSize, trainRows - start);
      let result;
      try {
        // The engine copies this step's rows, in the shuffled order, straight from the checked data.
        result = model.guard.step(engine, data, start, n, order);
      } catch (err) {
        if (!(err instanceof NonFiniteError)) throw err;
        throw err.at(`epoch ${epoch}, batch ${batch} of ${batches}`, { epochs: [...epochs] });
      }
      lossSum += result.loss * n;
      seen += n;
      const yb = labels.take(start, n, order);
      metrics.add(result.predictions, yb, n);
      const c = single ? countCorrect(signature.outputs[0]!.loss, result.predictions[0]!, yb[0]!, n, classesOf(signature.outputs[0]!.prediction.shape)) : null;
      correct = c === null || correct === null ? null : correct + c;
      const diagnostics = engine.readDiagnostics?.();
      if (diagnostics) telemetry.add(diagnostics);
      if (batchEnd) {
        const log: BatchLog = { epoch, batch, batches, size: n, loss: result.loss, meanLoss: lossSum / seen };
        for (const h of hooks) if (h.onBatchEnd) yield h.onBatchEnd(log, model);
      }
      yield undefined;
    }
    // Stopped before its first step (from onEpochBegin): nothing to log. Stopped part-way (from a
    // batch hook): as Keras, the epoch is logged, its means over the rows it trained on.
    if (seen === 0) break;
    // Written field by field, in the order the log's readers see: seconds first held in its place.
    const log: Mutable<EpochLog> = { epoch, loss: lossSum / seen, seconds: 0 };
    const diagnostics = telemetry.mean();
    if (diagnostics) log.diagnostics = diagnostics;
    if (correct !== null) log.accuracy = correct / seen;
    if (!metrics.empty) log.metrics = metrics.results();
    if (valRows > 0) {
      const val = model.evaluateRows(data, undefined, trainRows, valRows, options.metrics);
      log.valLoss = val.loss;
      if (val.accuracy !== undefined) log.valAccuracy = val.accuracy;
      if (val.outputs) log.valOutputs = val.outputs;
      if (val.metrics) log.valMetrics = val.metrics;
    }
    if (hasRate) log.learningRate = model.learningRate;
    log.seconds = (performance.now() - started) / 1000;
    epochs.push(log);
    for (const h of hooks) if (h.onEpochEnd) yield h.onEpochEnd(log, model);
  }
  const history = { epochs };
  for (const h of hooks) if (h.onTrainEnd) yield h.onTrainEnd(history, model);
  return history;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> => typeof (value as { then?: unknown } | null)?.then === 'function';

/** Runs fitSteps to the end without yielding to the event loop. */
export function fitLoop<D extends Float32Array | Float64Array>(model: TrainingModel & Evaluator, engine: BatchEngine<D>, data: Batch, options: FitOptions): History {
  const steps = fitSteps(model, engine, data, options);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    if (isThenable(next.value)) {
      void Promise.resolve(next.value).catch(() => {});
      throw new InputError('fit: a callback returned a promise, which fit() cannot wait for; use fitAsync()');
    }
  }
}

/**
 * A macrotask, so input, rendering and timers get their turn: through MessageChannel (setTimeout 0
 * is clamped to 4 ms once nested, idling that long each time; scheduler.yield() resumes ahead of
 * timers, which then starve), setTimeout 0 where there is none.
 */
function nextTask(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** Runs fitSteps, awaiting the callbacks' promises and yielding to the event loop every `yieldEveryMs`; stops between steps on abort. */
export async function fitLoopAsync<D extends Float32Array | Float64Array>(model: TrainingModel & Evaluator, engine: BatchEngine<D>, data: Batch, options: AsyncFitOptions): Promise<History> {
  const every = options.yieldEveryMs ?? 10;
  if (!(every >= 0)) throw new InputError(`fitAsync: yieldEveryMs must be ≥ 0, got ${every}`);
  const { signal } = options;
  signal?.throwIfAborted();
  const steps = fitSteps(model, engine, data, options);
  let last = performance.now();
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    if (isThenable(next.value)) await next.value;
    if (performance.now() - last >= every) {
      await nextTask();
      last = performance.now();
    }
    // Between two steps: the weights are those of the last whole step.
    if (signal?.aborted) {
      steps.return({ epochs: [] });
      signal.throwIfAborted();
    }
  }
}
