// What the model API (runner.ts) and the fit loop (fit.ts) share: the engine contract both run
// over, a batch of checked rows, an evaluation. Engines implement BatchEngine: the compiled
// trainer (trainer.ts) and the float64 interpreter. A step names its rows of the whole checked
// data (start, count and the shuffled order): the engine copies them straight to where it reads them.
import { gatherRows, type Precision, type RowData, type Rows } from './data.ts';
import type { Diagnostics } from './diagnostics.ts';
import type { OutputSpec, Signature } from './manifest.ts';
import { countCorrect } from './metrics.ts';
import { classesOf } from './tensor.ts';

/** What an engine reports when a step met a non-finite value. */
export interface NonFinite {
  /** `loss`, `grad:<param>` or `update:<param>`: the first non-finite tensor, in backward order. */
  readonly tensor: string;
  /** Gradient L2 norm per parameter at the last step whose gradients were all finite (absent before any). */
  readonly lastFiniteGradNorms: ReadonlyMap<string, number> | null;
}

export interface BatchResult<D> {
  readonly loss: number;
  /** Each output's values for the n rows (the forward pass of this step, before any update); valid until the engine's next call. */
  readonly predictions: readonly D[];
  /** Each output's own loss (evaluate, models with several outputs). */
  readonly losses?: readonly number[];
  /** Set by trainBatch when the step met NaN or ±Inf; the engine then wrote no parameter. */
  readonly nonFinite?: NonFinite;
}

/**
 * The engine's side. A step runs on rows [start, start+n) of `data` (one Rows per model input, x,
 * and per output's targets, y), taken in `order` where given (fit's shuffle); the rows are stored
 * as the engine's `precision` says.
 */
export interface BatchEngine<D extends Float32Array | Float64Array> {
  readonly signature: Signature;
  /** How the engine stores inputs and targets; the rows it is given are stored so. */
  readonly precision: Precision;
  init(seed: number): void;
  readParam(name: string): D;
  writeParams(values: ReadonlyMap<string, Float64Array>): void;
  trainBatch(data: Batch, start: number, n: number, order?: Uint32Array): BatchResult<D>;
  gradientsBatch(data: Batch, start: number, n: number): BatchResult<D> & { readonly grads: ReadonlyMap<string, D> };
  evaluateBatch(data: Batch, start: number, n: number, order?: Uint32Array): BatchResult<D>;
  predictBatch(x: readonly Rows[], start: number, n: number): readonly D[];
  /** A scalar state tensor (a hyperparameter's, see Signature.hyperparameters), as the step reads it. */
  readState(name: string): number;
  /** Sets a scalar state tensor; the next step reads the new value. */
  writeState(name: string, value: number): void;
  /** True when `data` lies in the engine's own memory (a trainer's views), which every step overwrites. */
  holds?(data: RowData): boolean;
  /** Telemetry of the last training step, for engines compiled with diagnostics. */
  readDiagnostics?(): Diagnostics | undefined;
}

export interface OutputEvaluation {
  /** This output's own loss (its loss spec's value, before lossWeight). */
  readonly loss: number;
  readonly accuracy?: number;
}

export interface Evaluation {
  /** The model's loss: Σ lossWeight · loss over the outputs. */
  readonly loss: number;
  /** Fraction correct, for a classification loss (single-output models). */
  readonly accuracy?: number;
  /** Each output's loss and accuracy, by output name (models with several outputs). */
  readonly outputs?: Readonly<Record<string, OutputEvaluation>>;
  /** The metrics asked for, by name (`<output>.<name>` with several outputs). */
  readonly metrics?: Readonly<Record<string, number>>;
}

/** Rows of every input and every output's targets, n each. */
export interface Batch {
  readonly rows: number;
  readonly x: readonly Rows[];
  readonly y: readonly Rows[];
}

/**
 * Each output's target values of one step's rows, as given (float64), for accuracy and metrics;
 * gathered into buffers of the compiled batch size that every step of a call reuses.
 */
export class StepLabels {
  private readonly buffers: readonly Float64Array[];

  constructor(
    private readonly y: readonly Rows[],
    private readonly batchSize: number,
  ) {
    this.buffers = y.map((r) => new Float64Array(batchSize * r.width));
  }

  /** Valid until the next call, which overwrites them. */
  take(start: number, n: number, order?: Uint32Array): readonly Float64Array[] {
    for (let k = 0; k < this.y.length; k++) gatherRows(this.y[k]!, start, n, order, this.buffers[k]!, this.y[k]!.given ?? this.y[k]!.data);
    return n === this.batchSize ? this.buffers : this.y.map((r, k) => this.buffers[k]!.subarray(0, n * r.width));
  }
}

/** Correct rows per output (null where accuracy means nothing). */
export function countCorrectAll(outputs: readonly OutputSpec[], predictions: readonly (Float32Array | Float64Array)[], labels: readonly Float64Array[], n: number): (number | null)[] {
  return outputs.map((o, k) => countCorrect(o.loss, predictions[k]!, labels[k]!, n, classesOf(o.prediction.shape)));
}
