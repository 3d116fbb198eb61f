// The training loop: epochs of seeded shuffled mini-batches, Keras-style validation split and a
// per-epoch history. Written once for every engine.
import { InputError } from './errors.ts';
import { permutation, Rng } from './prng.ts';
import { countCorrectAll, takeBatch, type Batch, type BatchEngine, type Evaluation } from './engine.ts';
import type { EpochLog, History } from './history.ts';
import type { Feed } from './tensor.ts';
import type { Signature } from './manifest.ts';
import { NonFiniteError, type StepGuard } from './guard.ts';
import { DiagnosticsMean } from './diagnostics.ts';

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
  /** Called after every epoch, e.g. to print progress. */
  readonly onEpochEnd?: (log: EpochLog) => void;
}

export type { EpochLog, History } from './history.ts';

interface Evaluator {
  readonly signature: Signature;
  readonly guard: StepGuard;
  evaluateRows(data: Batch, order?: Uint32Array, start?: number, count?: number): Evaluation;
}

function checkOptions(options: FitOptions, signature: Signature, rows: number): Required<Omit<FitOptions, 'onEpochEnd'>> {
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

export function fitLoop<D extends Float32Array | Float64Array>(
  evaluator: Evaluator,
  engine: BatchEngine<D>,
  data: Batch,
  options: FitOptions,
): History {
  const signature = engine.signature;
  const opts = checkOptions(options, signature, data.rows);
  const trainRows = Math.floor(data.rows * (1 - opts.validationSplit));
  const valRows = data.rows - trainRows;
  const single = signature.outputs.length === 1;
  const rng = new Rng(opts.seed, SHUFFLE_STREAM);
  const epochs: EpochLog[] = [];

  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const started = performance.now();
    const order = opts.shuffle ? permutation(trainRows, rng) : undefined;
    let lossSum = 0;
    let correct: number | null = 0;
    const telemetry = new DiagnosticsMean();
    for (let start = 0; start < trainRows; start += opts.batchSize) {
      const n = Math.min(opts.batchSize, trainRows - start);
      const yb = takeBatch(data.y, start, n, order);
      let result;
      try {
        result = evaluator.guard.step(engine, takeBatch(data.x, start, n, order), yb, n);
      } catch (err) {
        if (!(err instanceof NonFiniteError)) throw err;
        throw err.at(`epoch ${epoch}, batch ${start / opts.batchSize + 1} of ${Math.ceil(trainRows / opts.batchSize)}`, { epochs: [...epochs] });
      }
      lossSum += result.loss * n;
      const c = single ? countCorrectAll(signature.outputs, result.predictions, yb, n)[0]! : null;
      correct = c === null || correct === null ? null : correct + c;
      const diagnostics = engine.readDiagnostics?.();
      if (diagnostics) telemetry.add(diagnostics);
    }
    let log: EpochLog = { epoch, loss: lossSum / trainRows, seconds: 0 };
    const diagnostics = telemetry.mean();
    if (diagnostics) log = { ...log, diagnostics };
    if (correct !== null) log = { ...log, accuracy: correct / trainRows };
    if (valRows > 0) {
      const val = evaluator.evaluateRows(data, undefined, trainRows, valRows);
      log = { ...log, valLoss: val.loss, ...(val.accuracy !== undefined ? { valAccuracy: val.accuracy } : {}), ...(val.outputs ? { valOutputs: val.outputs } : {}) };
    }
    log = { ...log, seconds: (performance.now() - started) / 1000 };
    epochs.push(log);
    options.onEpochEnd?.(log);
  }
  return { epochs };
}
