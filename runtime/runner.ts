// The user-facing model API, written once over a BatchEngine: the compiled trainer and the
// float64 interpreter are two engines behind the same surface. This layer validates, chunks
// to the compiled batch size and keeps score; the engine only runs batches.
import { namedRows, type Rows } from './data.ts';
import { countCorrectAll, StepLabels, type Batch, type BatchEngine, type Evaluation } from './engine.ts';
import { InputError } from './errors.ts';
import { fitLoop, fitLoopAsync, type AsyncFitOptions, type FitData, type FitOptions, type History } from './fit.ts';
import type { Signature } from './manifest.ts';
import { checkWeights } from './weights.ts';
import { MetricSet, type MetricSpec } from './metric_set.ts';
import { StepGuard } from './guard.ts';
import type { Diagnostics } from './diagnostics.ts';
import { classesOf, rowWidth, type Feed, type Tensor, type TensorLike } from './tensor.ts';

export type { Evaluation, OutputEvaluation } from './engine.ts';

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
    this.guard.reset();
  }

  /** Gradient-flow telemetry of the last training step: only for trainers compiled with `diagnostics: true`. */
  lastDiagnostics(): Diagnostics | undefined {
    return this.engine.readDiagnostics?.();
  }

  /**
   * The base learning rate the next step uses (a compiled schedule multiplies it). Set it
   * between steps, as Keras's ReduceLROnPlateau does; init() restores the spec's value.
   */
  get learningRate(): number {
    return this.hyperparameter('learningRate');
  }

  set learningRate(value: number) {
    this.setHyperparameter('learningRate', value);
  }

  /** Every host-settable hyperparameter and its current value (see Signature.hyperparameters). */
  get hyperparameters(): Record<string, number> {
    return Object.fromEntries((this.signature.hyperparameters ?? []).map((h) => [h.name, this.engine.readState(h.state)]));
  }

  hyperparameter(name: string): number {
    return this.engine.readState(this.hyperparameterState(name));
  }

  /** Sets a hyperparameter for the steps that follow: a finite float32 ≥ 0. */
  setHyperparameter(name: string, value: number): void {
    const state = this.hyperparameterState(name);
    if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(Math.fround(value))) {
      throw new InputError(`${name} must be a finite number ≥ 0 (in float32), got ${String(value)}`);
    }
    this.engine.writeState(state, value);
  }

  private hyperparameterState(name: string): string {
    const list = this.signature.hyperparameters;
    if (list === undefined) throw new InputError(`model '${this.signature.model}' was compiled with its hyperparameters as constants; recompile it to set ${name} at run time`);
    const held = list.find((h) => h.name === name);
    if (!held) throw new InputError(`model '${this.signature.model}' has no hyperparameter '${name}'; it has ${list.map((h) => h.name).join(', ')}`);
    return held.state;
  }

  getWeights(): Record<string, Tensor<D>> {
    return Object.fromEntries(this.signature.params.map((p) => [p.name, { shape: [...p.shape], data: this.engine.readParam(p.name) }]));
  }

  setWeights(weights: Record<string, TensorLike>): void {
    this.engine.writeParams(checkWeights(this.signature.params, weights));
  }

  /** Checked rows of every input, from one tensor or `{ [input name]: tensor }`. */
  inputRows(x: Feed): Rows[] {
    const { inputs } = this.signature;
    return this.apart(namedRows(x, inputs, inputs.map((t) => t.name), 'input', inputs.map((t) => t.idBound), this.engine.precision));
  }

  /** Rows handed in that lie in the engine's own memory (a trainer's views), copied once: every step overwrites that memory. */
  private apart(rows: Rows[]): Rows[] {
    return rows.map((r) => (this.engine.holds?.(r.data) ? { ...r, data: r.data.slice() } : r));
  }

  /** Checked target rows of every output, from one tensor or `{ [output name]: tensor }`, matched against `rows` input rows. */
  labelRows(y: Feed, rows: number): Rows[] {
    const { outputs } = this.signature;
    const classes = outputs.map((o) => (o.labels.dtype === 'i32' ? classesOf(o.prediction.shape) : undefined));
    const checked = this.apart(namedRows(y, outputs.map((o) => o.labels), outputs.map((o) => o.name), 'labels', classes, this.engine.precision));
    if (checked[0]!.rows !== rows) throw new InputError(`labels '${outputs[0]!.labels.name}': ${checked[0]!.rows} rows for ${rows} input rows`);
    return checked;
  }

  /** Inputs and targets of one call, checked. */
  batch(x: Feed, y: Feed): Batch {
    const xs = this.inputRows(x);
    return { rows: xs[0]!.rows, x: xs, y: this.labelRows(y, xs[0]!.rows) };
  }

  private batchOf(x: Feed, y: Feed, call: string): Batch {
    const xs = this.inputRows(x);
    const rows = xs[0]!.rows;
    if (rows > this.signature.batchSize) {
      throw new InputError(`${call}: ${rows} rows exceed the compiled batch size ${this.signature.batchSize}; use fit() or smaller batches`);
    }
    return { rows, x: xs, y: this.labelRows(y, rows) };
  }

  /**
   * One optimizer step on up to batchSize rows; returns the loss before the update. Throws
   * NonFiniteError, leaving the weights as they were, if the loss, a gradient or a new weight is NaN or ±Inf.
   */
  trainStep(x: Feed, y: Feed): number {
    const batch = this.batchOf(x, y, 'trainStep');
    return this.guard.step(this.engine, batch, 0, batch.rows).loss;
  }

  /** Loss and d loss / d parameter for every parameter, without updating anything. */
  gradients(x: Feed, y: Feed): { loss: number; grads: Record<string, Tensor<D>> } {
    const batch = this.batchOf(x, y, 'gradients');
    const result = this.engine.gradientsBatch(batch, 0, batch.rows);
    const trained = this.signature.params.filter((p) => p.trainable !== false);
    const grads = Object.fromEntries(trained.map((p) => [p.name, { shape: [...p.shape], data: result.grads.get(p.name)! }]));
    return { loss: result.loss, grads };
  }

  /** Every output's values for any number of rows, by output name (run in chunks of the compiled batch size). */
  predictOutputs(x: Feed): Record<string, Tensor<D>> {
    const xs = this.inputRows(x);
    const rows = xs[0]!.rows;
    const { outputs, batchSize: B } = this.signature;
    const widths = outputs.map((o) => rowWidth(o.prediction.shape));
    const out: (D | undefined)[] = outputs.map(() => undefined);
    for (let start = 0; start < rows; start += B) {
      const n = Math.min(B, rows - start);
      const parts = this.engine.predictBatch(xs, start, n);
      parts.forEach((part, k) => {
        out[k] ??= new (part.constructor as { new (length: number): D })(rows * widths[k]!);
        out[k].set(part, start * widths[k]!);
      });
    }
    return Object.fromEntries(outputs.map((o, k) => [o.name, { shape: [rows, ...(o.prediction.shape.slice(1) as number[])], data: out[k]! }]));
  }

  /** Model outputs for any number of rows; a model with several outputs answers predictOutputs() instead. */
  predict(x: Feed): Tensor<D> {
    const { outputs } = this.signature;
    if (outputs.length > 1) throw new InputError(`predict: the model has ${outputs.length} outputs (${outputs.map((o) => o.name).join(', ')}); use predictOutputs()`);
    return this.predictOutputs(x)[outputs[0]!.name]!;
  }

  /** Mean loss over all rows (and accuracy for classification), in inference mode; `metrics` adds those (see MetricSpec). */
  evaluate(x: Feed, y: Feed, options: { readonly metrics?: readonly MetricSpec[] } = {}): Evaluation {
    return this.evaluateRows(this.batch(x, y), undefined, 0, undefined, options.metrics);
  }

  evaluateRows(data: Batch, order?: Uint32Array, start = 0, count = data.rows, metrics: readonly MetricSpec[] = []): Evaluation {
    const { outputs, batchSize: B } = this.signature;
    const set = new MetricSet(metrics, outputs);
    let loss = 0;
    const each = outputs.map(() => 0);
    let correct: (number | null)[] = outputs.map(() => 0);
    const labels = new StepLabels(data.y, Math.min(B, count));
    for (let at = 0; at < count; at += B) {
      const n = Math.min(B, count - at);
      const result = this.engine.evaluateBatch(data, start + at, n, order);
      const yb = labels.take(start + at, n, order);
      loss += result.loss * n;
      result.losses?.forEach((l, k) => (each[k]! += l * n));
      set.add(result.predictions, yb, n);
      const c = countCorrectAll(outputs, result.predictions, yb, n);
      correct = correct.map((sum, k) => (sum === null || c[k] === null ? null : sum + c[k]!));
    }
    const accuracy = (k: number): { accuracy?: number } => (correct[k] === null ? {} : { accuracy: correct[k]! / count });
    const extra = set.empty ? {} : { metrics: set.results() };
    if (outputs.length === 1) return { loss: loss / count, ...accuracy(0), ...extra };
    return { loss: loss / count, outputs: Object.fromEntries(outputs.map((o, k) => [o.name, { loss: each[k]! / count, ...accuracy(k) }])), ...extra };
  }

  /** Set by a callback (or any code between steps) to end fit after the current step, as Keras's model.stop_training. */
  stopTraining = false;

  /** Trains for some epochs over the data; see FitOptions. Returns the per-epoch history. Runs to the end without yielding: in a page, use fitAsync or a Worker. */
  fit(data: FitData, options: FitOptions = {}): History {
    return fitLoop(this, this.engine, this.batch(data.x, data.y), options);
  }

  /**
   * fit that lets the event loop run between steps (every `yieldEveryMs`, default 10 ms), so a
   * page stays responsive, awaits callbacks that return promises, and stops between two steps
   * when `signal` aborts (rejecting with its reason; the weights are those of the last step).
   */
  fitAsync(data: FitData, options: AsyncFitOptions = {}): Promise<History> {
    return fitLoopAsync(this, this.engine, this.batch(data.x, data.y), options);
  }
}
