// The user-facing model API, written once over a BatchEngine: the compiled trainer and the
// float64 interpreter are two engines behind the same surface. This layer validates, chunks
// to the compiled batch size and keeps score; the engine only runs batches.
import { toRows, takeRows, type Rows } from './data.ts';
import { InputError } from './errors.ts';
import { fitLoop, type FitData, type FitOptions, type History } from './fit.ts';
import type { Signature } from './manifest.ts';
import { countCorrect } from './metrics.ts';
import { checkWeights } from './weights.ts';
import { StepGuard, type NonFinite } from './guard.ts';
import type { Diagnostics } from './diagnostics.ts';
import type { Tensor, TensorLike } from './tensor.ts';

export interface BatchResult<D> {
  readonly loss: number;
  /** The model's output for the n rows (the forward pass of this step, before any update). */
  readonly prediction: D;
  /** Set by trainBatch when the step met NaN or ±Inf; the engine then wrote no parameter. */
  readonly nonFinite?: NonFinite;
}

export interface BatchEngine<D extends Float32Array | Float64Array> {
  readonly signature: Signature;
  init(seed: number): void;
  readParam(name: string): D;
  writeParams(values: ReadonlyMap<string, Float64Array>): void;
  trainBatch(x: Float64Array, y: Float64Array, n: number): BatchResult<D>;
  gradientsBatch(x: Float64Array, y: Float64Array, n: number): BatchResult<D> & { readonly grads: ReadonlyMap<string, D> };
  evaluateBatch(x: Float64Array, y: Float64Array, n: number): BatchResult<D>;
  predictBatch(x: Float64Array, n: number): D;
  /** Telemetry of the last training step, for engines compiled with diagnostics. */
  readDiagnostics?(): Diagnostics | undefined;
}

export interface Evaluation {
  readonly loss: number;
  /** Fraction correct, for classification losses. */
  readonly accuracy?: number;
}

export class ModelRunner<D extends Float32Array | Float64Array> {
  /** Counts steps and stops training on NaN or ±Inf (NonFiniteError). */
  readonly guard = new StepGuard();

  constructor(protected readonly engine: BatchEngine<D>) {}

  get signature(): Signature {
    return this.engine.signature;
  }

  /** (Re)initialises every parameter from `seed` (default: the spec's seed). */
  init(seed: number = this.signature.seed): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new InputError(`init: seed must be an integer in [0, 2^32), got ${seed}`);
    this.engine.init(seed);
  }

  /** Gradient-flow telemetry of the last training step: only for trainers compiled with `diagnostics: true`. */
  lastDiagnostics(): Diagnostics | undefined {
    return this.engine.readDiagnostics?.();
  }

  getWeights(): Record<string, Tensor<D>> {
    return Object.fromEntries(this.signature.params.map((p) => [p.name, { shape: [...p.shape], data: this.engine.readParam(p.name) }]));
  }

  setWeights(weights: Record<string, TensorLike>): void {
    this.engine.writeParams(checkWeights(this.signature.params, weights));
  }

  /** Checked input rows. */
  inputRows(x: TensorLike): Rows {
    return toRows(x, this.signature.input, 'input');
  }

  /** Checked label rows, matched against `rows` input rows. */
  labelRows(y: TensorLike, rows: number): Rows {
    const { labels, prediction } = this.signature;
    const classes = labels.dtype === 'i32' ? (prediction.shape[1] as number) : undefined;
    const checked = toRows(y, labels, 'labels', classes);
    if (checked.rows !== rows) throw new InputError(`labels '${labels.name}': ${checked.rows} rows for ${rows} input rows`);
    return checked;
  }

  private batchOf(x: TensorLike, y: TensorLike, call: string): { x: Rows; y: Rows } {
    const xs = this.inputRows(x);
    if (xs.rows > this.signature.batchSize) {
      throw new InputError(`${call}: ${xs.rows} rows exceed the compiled batch size ${this.signature.batchSize}; use fit() or smaller batches`);
    }
    return { x: xs, y: this.labelRows(y, xs.rows) };
  }

  /**
   * One optimizer step on up to batchSize rows; returns the loss before the update. Throws
   * NonFiniteError, leaving the weights as they were, if the loss, a gradient or a new weight is NaN or ±Inf.
   */
  trainStep(x: TensorLike, y: TensorLike): number {
    const batch = this.batchOf(x, y, 'trainStep');
    return this.guard.step(this.engine, batch.x.data, batch.y.data, batch.x.rows).loss;
  }

  /** Loss and d loss / d parameter for every parameter, without updating anything. */
  gradients(x: TensorLike, y: TensorLike): { loss: number; grads: Record<string, Tensor<D>> } {
    const batch = this.batchOf(x, y, 'gradients');
    const result = this.engine.gradientsBatch(batch.x.data, batch.y.data, batch.x.rows);
    const trained = this.signature.params.filter((p) => p.trainable !== false);
    const grads = Object.fromEntries(trained.map((p) => [p.name, { shape: [...p.shape], data: result.grads.get(p.name)! }]));
    return { loss: result.loss, grads };
  }

  /** Model outputs for any number of rows (run in chunks of the compiled batch size). */
  predict(x: TensorLike): Tensor<D> {
    const xs = this.inputRows(x);
    const width = this.signature.prediction.shape[1] as number;
    const B = this.signature.batchSize;
    let out: D | undefined;
    for (let start = 0; start < xs.rows; start += B) {
      const n = Math.min(B, xs.rows - start);
      const part = this.engine.predictBatch(takeRows(xs, start, n), n);
      out ??= new (part.constructor as { new (length: number): D })(xs.rows * width);
      out.set(part, start * width);
    }
    return { shape: [xs.rows, width], data: out! };
  }

  /** Mean loss over all rows (and accuracy for classification), in inference mode. */
  evaluate(x: TensorLike, y: TensorLike): Evaluation {
    const xs = this.inputRows(x);
    return this.evaluateRows(xs, this.labelRows(y, xs.rows));
  }

  evaluateRows(xs: Rows, ys: Rows, order?: Uint32Array, start = 0, count = xs.rows): Evaluation {
    const B = this.signature.batchSize;
    let loss = 0;
    let correct: number | null = 0;
    for (let at = 0; at < count; at += B) {
      const n = Math.min(B, count - at);
      const yb = takeRows(ys, start + at, n, order);
      const result = this.engine.evaluateBatch(takeRows(xs, start + at, n, order), yb, n);
      loss += result.loss * n;
      const c = countCorrect(this.signature.loss, result.prediction, yb, n);
      correct = c === null || correct === null ? null : correct + c;
    }
    return correct === null ? { loss: loss / count } : { loss: loss / count, accuracy: correct / count };
  }

  /** Trains for some epochs over the data; see FitOptions. Returns the per-epoch history. */
  fit(data: FitData, options: FitOptions = {}): History {
    const xs = this.inputRows(data.x);
    const ys = this.labelRows(data.y, xs.rows);
    return fitLoop(this, this.engine, xs, ys, options);
  }
}
