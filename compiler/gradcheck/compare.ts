// Comparing two gradients of one tensor: the relative difference ‖a − b‖₂ / (‖a‖₂ + ‖b‖₂), the
// element where they differ most, and a verdict on the usual scale (CS231n's, the material's):
// ≤ 1e-7 excellent, ≈ 1e-5 acceptable (where float32 lands), ≥ 1e-3 likely a bug.
import { relativeDifference } from './numerical.ts';

export const verdicts = ['excellent', 'acceptable', 'doubtful', 'likely a bug'] as const;
export type Verdict = (typeof verdicts)[number];

/** Upper bounds of the first three verdicts; anything at or above BUG_THRESHOLD is likely a bug. */
export const EXCELLENT = 1e-7;
export const ACCEPTABLE = 1e-5;
export const BUG_THRESHOLD = 1e-3;
/**
 * A tensor whose float64 gradient norm is at most this fraction of the model's is zero up to
 * rounding (float64 leaves about 1e-16 relative; 1e-12 keeps a margin of 1e4 on either side:
 * genuinely small gradients, like a vanishing first layer's 1e-7, stay far above it).
 */
export const ZERO_GRADIENT = 1e-12;

export function verdictOf(relative: number): Verdict {
  if (!(relative < BUG_THRESHOLD)) return 'likely a bug'; // NaN lands here too
  if (relative <= EXCELLENT) return 'excellent';
  if (relative <= ACCEPTABLE) return 'acceptable';
  return 'doubtful';
}

export function worstVerdict(list: readonly Verdict[]): Verdict {
  return verdicts[Math.max(0, ...list.map((v) => verdicts.indexOf(v)))]!;
}

/** The three ways a gradient is computed, and the three pairs gradcheck compares. */
export type Way = 'compiled' | 'interpreted' | 'numerical';
export const pairs = [
  ['interpreted', 'numerical'],
  ['compiled', 'interpreted'],
  ['compiled', 'numerical'],
] as const satisfies readonly (readonly [Way, Way])[];
export type PairName = 'interpreted-vs-numerical' | 'compiled-vs-interpreted' | 'compiled-vs-numerical';
export const pairName = ([a, b]: (typeof pairs)[number]): PairName => `${a}-vs-${b}` as PairName;

export interface Element {
  /** The tensor the element belongs to (for the overall worst element). */
  readonly tensor: string;
  /** Multi-dimensional index, row-major, as [unit, input] for a dense weight. */
  readonly index: readonly number[];
  readonly compiled: number;
  readonly interpreted: number;
  /** Null where the element was not sampled for the numerical check. */
  readonly numerical: number | null;
}

export interface PairResult {
  readonly relativeDifference: number;
  readonly verdict: Verdict;
  /** The compared element with the largest |a − b|; null if nothing was compared. */
  readonly worst: Element | null;
  /** |a − b| at the worst element. */
  readonly worstAbsolute: number;
}

/** The three gradients of one tensor; `checked` lists the elements that have a numerical value. */
export interface TensorGradients {
  readonly name: string;
  readonly shape: readonly number[];
  readonly compiled: ArrayLike<number>;
  readonly interpreted: ArrayLike<number>;
  readonly numerical: ArrayLike<number>;
  readonly checked: ArrayLike<number>;
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return index;
}

function elementAt(t: TensorGradients, i: number, sampled: boolean): Element {
  return {
    tensor: t.name,
    index: unravel(i, t.shape),
    compiled: t.compiled[i]!,
    interpreted: t.interpreted[i]!,
    numerical: sampled ? t.numerical[i]! : null,
  };
}

/**
 * Compares one pair over several tensors at once (one tensor, or every tensor for the overall line).
 * `floor`: the least denominator of the relative difference (see relativeDifference).
 */
export function comparePair(tensors: readonly TensorGradients[], [a, b]: (typeof pairs)[number], floor = 0): PairResult {
  const usesNumerical = ([a, b] as Way[]).includes('numerical');
  const left: number[] = [];
  const right: number[] = [];
  let worst: Element | null = null;
  let worstAbsolute = -1;
  for (const t of tensors) {
    const sampled = new Set(Array.from(t.checked));
    const count = usesNumerical ? t.checked.length : t.compiled.length;
    for (let k = 0; k < count; k++) {
      const i = usesNumerical ? t.checked[k]! : k;
      const va = t[a][i]!;
      const vb = t[b][i]!;
      left.push(va);
      right.push(vb);
      const gap = Math.abs(va - vb);
      // NaN compares false: make a non-finite gap the worst.
      if (!(gap <= worstAbsolute)) {
        worstAbsolute = Number.isNaN(gap) ? Infinity : gap;
        worst = elementAt(t, i, sampled.has(i));
      }
    }
  }
  const relative = relativeDifference(left, right, floor);
  return { relativeDifference: relative, verdict: verdictOf(relative), worst, worstAbsolute: Math.max(0, worstAbsolute) };
}

export function compareAll(tensors: readonly TensorGradients[], floor = 0): Record<PairName, PairResult> {
  return Object.fromEntries(pairs.map((p) => [pairName(p), comparePair(tensors, p, floor)])) as Record<PairName, PairResult>;
}
