// gradcheck: the gradient of the loss for every parameter, three ways — the compiled float32
// .wasm, the float64 interpreter, and centered differences on the interpreter — compared pair
// by pair, per tensor and overall. The API behind `nabla gradcheck`.
import type { OutputSpec, Signature } from '../../runtime/manifest.ts';
import { Rng } from '../../runtime/prng.ts';
import { InputError } from '../../runtime/errors.ts';
import { rowWidth, type Tensor, type TensorLike } from '../../runtime/tensor.ts';
import { takeRows, type Rows } from '../../runtime/data.ts';
import { compile } from '../compile.ts';
import { loadCheckpoint } from '../../runtime/checkpoint.ts';
import { interpret } from '../interpret/interpreter.ts';
import { BUG_THRESHOLD, compareAll, ZERO_GRADIENT, worstVerdict, type PairName, type PairResult, type TensorGradients, type Verdict } from './compare.ts';
import { finiteDifferenceStep, numericalGradients, trainingLoss } from './numerical.ts';

export interface GradcheckOptions {
  /** Weights to check at (a record keyed by parameter name). Default: the spec's initializers and seed. */
  readonly weights?: Record<string, TensorLike>;
  /** Or a safetensors checkpoint (as `nabla train --save` writes): its parameters are loaded, its optimizer state ignored. */
  readonly checkpoint?: Uint8Array;
  /** Rows to differentiate the loss on. Default: seeded random rows of the right shape. */
  readonly data?: { readonly x: TensorLike; readonly y: TensorLike };
  /** Rows used, at most the compiled batch size. Default: the batch size (or all given rows, if fewer). */
  readonly batch?: number;
  /** Check every element numerically. Default false: tensors above `sample` elements are sampled. */
  readonly all?: boolean;
  /** Elements per tensor checked numerically when sampling. Default 100. */
  readonly sample?: number;
  /** Seed of the random rows and of the sampling. Default: the spec's seed. */
  readonly seed?: number;
}

export interface TensorCheck {
  readonly name: string;
  readonly layer: string;
  readonly shape: readonly number[];
  readonly elements: number;
  /** Elements checked numerically (all of them, or a seeded sample). */
  readonly checked: number;
  /** ‖interpreted gradient‖₂: a zero gradient makes every comparison trivially perfect. */
  readonly norm: number;
  /**
   * The gradient is zero up to rounding (norm ≤ ZERO_GRADIENT × the model's), as for a bias right
   * before batch normalization, which subtracts it again: its pairs are then judged against the
   * model's gradient norm, so they say that all three ways find it zero, and nothing more.
   */
  readonly zero: boolean;
  readonly pairs: Record<PairName, PairResult>;
  readonly verdict: Verdict;
}

export interface GradcheckReport {
  readonly model: string;
  readonly rows: number;
  /** 'random': seeded random rows of the model's shapes; 'given': the caller's data. */
  readonly data: 'random' | 'given';
  readonly seed: number;
  readonly loss: { readonly compiled: number; readonly interpreted: number };
  /** The finite-difference step: h = ∛ε · max(1, |w|), ε the float64 machine epsilon. */
  readonly step: { readonly formula: string; readonly unit: number; readonly epsilon: number };
  readonly sampled: boolean;
  readonly tensors: readonly TensorCheck[];
  readonly overall: Record<PairName, PairResult> & { readonly elements: number; readonly checked: number };
  readonly verdict: Verdict;
  /** Some pair is at or above 1e-3: likely a bug. */
  readonly failed: boolean;
}

const DEFAULT_SAMPLE = 100;
/** PRNG streams of gradcheck's random rows and sampling, apart from the initialisers' 0, 1, 2, ... */
const DATA_STREAM = 0xfffffff0;
const SAMPLE_STREAM = 0xfffffff1;

/** A named feed: one [rows, width] tensor per name. */
type NamedFeed = Record<string, Tensor<Float64Array>>;

/** Seeded targets of one output's loss type, rounded to float32 so both engines see the same numbers. */
function randomTargets(output: OutputSpec, rows: number, rng: Rng, uniform: () => number): Tensor<Float64Array> {
  // [rows, width], or per position [rows, steps, width]: a class id (or a target row) per position.
  const width = output.prediction.shape.at(-1) as number;
  const positions = output.prediction.shape.slice(1, -1) as number[];
  const count = rows * positions.reduce((a, b) => a * b, 1);
  const shape = [rows, ...positions, width];
  switch (output.loss.type) {
    case 'sparse_categorical_crossentropy':
      return { shape: [rows, ...positions], data: Float64Array.from({ length: count }, () => rng.below(width)) };
    case 'categorical_crossentropy': {
      const data = new Float64Array(count * width);
      for (let r = 0; r < count; r++) data[r * width + rng.below(width)] = 1;
      return { shape, data };
    }
    case 'binary_crossentropy':
      return { shape, data: Float64Array.from({ length: count * width }, () => (rng.uniform() < 0.5 ? 0 : 1)) };
    case 'mse':
    case 'mae':
    case 'huber':
      return { shape, data: Float64Array.from({ length: count * width }, uniform) };
  }
}

/** Seeded rows for every input and every output's targets, keyed by name, rounded to float32 so both engines see the same numbers. */
export function randomBatch(signature: Signature, rows: number, seed: number): { x: NamedFeed; y: NamedFeed } {
  const rng = new Rng(seed, DATA_STREAM);
  const uniform = (): number => Math.fround(2 * rng.uniform() - 1);
  const x: NamedFeed = {};
  for (const input of signature.inputs) {
    const width = rowWidth(input.shape);
    // Token-id inputs draw ids the model accepts; float inputs draw values in [-1, 1).
    const draw = input.idBound === undefined ? uniform : (): number => rng.below(input.idBound!);
    x[input.name] = { shape: [rows, ...(input.shape.slice(1) as number[])], data: Float64Array.from({ length: rows * width }, draw) };
  }
  const y: NamedFeed = {};
  for (const output of signature.outputs) y[output.name] = randomTargets(output, rows, rng, uniform);
  return { x, y };
}

/** Element indices to check numerically: all, or `count` distinct seeded ones in ascending order. */
function sampleIndices(size: number, count: number, rng: Rng): Uint32Array {
  if (count >= size) return Uint32Array.from({ length: size }, (_, i) => i);
  // Partial Fisher–Yates: the first `count` entries of a seeded shuffle.
  const all = Uint32Array.from({ length: size }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + rng.below(size - i);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, count).sort();
}

function checkOptions(options: GradcheckOptions, signature: Signature): { rows: number; sample: number; seed: number } {
  const seed = options.seed ?? signature.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new InputError(`gradcheck: seed must be an integer in [0, 2^32), got ${seed}`);
  const sample = options.sample ?? DEFAULT_SAMPLE;
  if (!Number.isInteger(sample) || sample < 1) throw new InputError(`gradcheck: sample must be a positive integer, got ${sample}`);
  const B = signature.batchSize;
  const rows = options.batch ?? B;
  if (!Number.isInteger(rows) || rows < 1 || rows > B) {
    throw new InputError(`gradcheck: batch must be an integer in [1, ${B}] (the compiled batch size), got ${rows}`);
  }
  return { rows, sample, seed };
}

/** Checks the gradients of `specInput` three ways; see GradcheckReport. Bad options throw InputError. */
export async function gradcheck(specInput: unknown, options: GradcheckOptions = {}): Promise<GradcheckReport> {
  const interpreter = interpret(specInput);
  const signature = interpreter.signature;
  const { sample, seed, ...sized } = checkOptions(options, signature);
  let rows = sized.rows;
  let x: NamedFeed;
  let y: NamedFeed;
  if (options.data) {
    const batch = interpreter.batch(options.data.x, options.data.y);
    // The first rows: shuffle beforehand for a representative batch.
    rows = Math.min(rows, batch.rows);
    // Integer labels are one per row ([rows]); everything else is [rows, width].
    const first = (all: readonly Rows[], names: readonly string[], ranks: readonly number[]): NamedFeed =>
      // The interpreter's rows are float64 (its precision).
      Object.fromEntries(all.map((r, k) => [names[k]!, { shape: ranks[k] === 1 ? [rows] : [rows, r.width], data: takeRows(r, 0, rows) as Float64Array }]));
    x = first(batch.x, signature.inputs.map((t) => t.name), signature.inputs.map((t) => t.shape.length));
    y = first(batch.y, signature.outputs.map((o) => o.name), signature.outputs.map((o) => o.labels.shape.length));
  } else {
    ({ x, y } = randomBatch(signature, rows, seed));
  }

  const trainer = await compile(specInput);
  if (options.weights) trainer.setWeights(options.weights);
  if (options.checkpoint) {
    await loadCheckpoint(trainer, options.checkpoint);
    // The interpreter starts from a fresh optimizer; so does the trainer, or dropout's step-counted masks would differ.
    for (const state of Object.values(trainer.views.state)) state.fill(0);
  }
  // Both engines at the very same (float32) weights: any difference is then arithmetic.
  interpreter.setWeights(trainer.getWeights());

  const compiled = trainer.gradients(x, y);
  const exact = interpreter.gradients(x, y);
  const rng = new Rng(seed, SAMPLE_STREAM);
  // Only trained parameters have gradients (running statistics are updated, not differentiated).
  const trained = signature.params.filter((p) => p.trainable !== false);
  const chosen = new Map(
    trained.map((p) => {
      const size = p.shape.reduce((a, b) => a * b, 1);
      return [p.name, sampleIndices(size, options.all ? size : sample, rng)] as const;
    }),
  );
  // The training-mode loss (batch statistics, this step's dropout mask): the one gradients() differentiates.
  const numerical = numericalGradients(
    interpreter,
    x,
    y,
    trained.map((p) => p.name),
    trainingLoss,
    chosen,
  );

  const gradients: TensorGradients[] = trained.map((p) => ({
    name: p.name,
    shape: p.shape,
    compiled: compiled.grads[p.name]!.data,
    interpreted: exact.grads[p.name]!.data,
    numerical: numerical[p.name]!,
    checked: chosen.get(p.name)!,
  }));
  // The model's gradient scale, twice: the denominator ‖a‖ + ‖b‖ of two equal gradients of that norm.
  const modelNorm = Math.hypot(...gradients.map((g) => Math.hypot(...Array.from(g.interpreted))));
  const tensors: TensorCheck[] = gradients.map((g, k) => {
    const norm = Math.hypot(...Array.from(g.interpreted));
    const zero = norm <= ZERO_GRADIENT * modelNorm;
    const pairs = compareAll([g], zero ? 2 * modelNorm : 0);
    return {
      name: g.name,
      layer: trained[k]!.layer,
      shape: g.shape,
      elements: g.compiled.length,
      checked: g.checked.length,
      norm,
      zero,
      pairs,
      verdict: worstVerdict(Object.values(pairs).map((r) => r.verdict)),
    };
  });
  const elements = tensors.reduce((s, t) => s + t.elements, 0);
  const checked = tensors.reduce((s, t) => s + t.checked, 0);
  const overall = { ...compareAll(gradients), elements, checked };
  const pairResults = Object.values(compareAll(gradients));
  return {
    model: signature.model,
    rows,
    data: options.data ? 'given' : 'random',
    seed,
    loss: { compiled: compiled.loss, interpreted: exact.loss },
    step: { formula: '∛ε · max(1, |w|)', unit: finiteDifferenceStep(1), epsilon: Number.EPSILON },
    sampled: checked < elements,
    tensors,
    overall,
    verdict: worstVerdict(pairResults.map((r) => r.verdict)),
    failed: pairResults.some((r) => !(r.relativeDifference < BUG_THRESHOLD)),
  };
}
