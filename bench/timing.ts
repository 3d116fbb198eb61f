// Medians of repeated timings. Each sample runs enough steps to last about a millisecond, so
// timer resolution does not show, and each system gets about the same wall-clock budget.

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median milliseconds per call of `step`, after a warm-up, within about `budgetMs`. */
export function msPerCall(step: () => void, budgetMs = 1500): number {
  let inner = 1;
  const warmEnd = performance.now() + Math.min(300, budgetMs / 4);
  let calls = 0;
  while (performance.now() < warmEnd || calls < 3) {
    step();
    calls++;
  }
  const t0 = performance.now();
  step();
  const once = performance.now() - t0;
  inner = Math.max(1, Math.ceil(1 / Math.max(once, 1e-3)));
  const samples: number[] = [];
  const end = performance.now() + budgetMs;
  while ((performance.now() < end && samples.length < 400) || samples.length < 7) {
    const s = performance.now();
    for (let i = 0; i < inner; i++) step();
    samples.push((performance.now() - s) / inner);
  }
  return median(samples);
}

/** Milliseconds of one call of `step` after one warm-up call: for steps of seconds, where a median of many is not affordable. */
export function msOfSlowCall(step: () => void): number {
  step();
  const t0 = performance.now();
  step();
  return performance.now() - t0;
}

export interface PairedResult {
  /** Median ms per step of each variant. */
  readonly ms: number[];
  /** Per variant, its ms / the first variant's ms in each round, sorted. */
  readonly ratios: number[][];
  /** Fastest ms per step of each variant: on a heavily loaded machine, the rounds nothing else interrupted. */
  readonly fastest: number[];
  /** Per variant, its ms per step in each timed round (round order). */
  readonly rounds: number[][];
}

/** Variant `of`'s ms / variant `to`'s ms in each round, sorted: the paired ratio of any two variants. */
export function roundRatios(result: PairedResult, of: number, to: number): number[] {
  const base = result.rounds[to]!;
  return result.rounds[of]!.map((v, r) => v / base[r]!).sort((x, y) => x - y);
}

/**
 * Variants timed in rounds of `steps` calls each, the order rotating from round to round: each
 * round yields one ratio per variant to the first variant of that same round, so a burst of
 * load from elsewhere cancels out of the ratio. The first `warmup` rounds are dropped. `settle`,
 * where given, runs untimed before each variant's calls.
 */
export function pairedRounds(variants: readonly (() => void)[], steps: number, rounds = 41, warmup = 5, settle?: () => void): PairedResult {
  const times: number[][] = variants.map(() => []);
  for (let round = 0; round < rounds + warmup; round++) {
    for (let j = 0; j < variants.length; j++) {
      const k = (round + j) % variants.length;
      settle?.();
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) variants[k]!();
      times[k]!.push((performance.now() - t0) / steps);
    }
  }
  return pairedSummary(times, warmup);
}

/** pairedRounds for variants whose step completes asynchronously (each call is awaited before the next). */
export async function pairedRoundsAsync(variants: readonly (() => Promise<unknown>)[], steps: number, rounds = 41, warmup = 5): Promise<PairedResult> {
  const times: number[][] = variants.map(() => []);
  for (let round = 0; round < rounds + warmup; round++) {
    for (let j = 0; j < variants.length; j++) {
      const k = (round + j) % variants.length;
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) await variants[k]!();
      times[k]!.push((performance.now() - t0) / steps);
    }
  }
  return pairedSummary(times, warmup);
}

/** Medians, fastest rounds and per-round ratios to the first variant, of rounds' ms per step (per variant, in round order). */
function pairedSummary(times: readonly (readonly number[])[], warmup: number): PairedResult {
  const rounds = times.map((t) => t.slice(warmup));
  const result = { ms: rounds.map(median), fastest: rounds.map((t) => Math.min(...t)), rounds, ratios: [] as number[][] };
  result.ratios = rounds.map((_, k) => roundRatios(result, k, 0));
  return result;
}

/** "×1.023 (1.004–1.041)": the median ratio and its 25th–75th percentiles. */
export function formatRatio(sorted: readonly number[]): string {
  const q = (p: number): number => sorted[Math.floor(p * (sorted.length - 1))]!;
  return `×${median(sorted).toFixed(3)} (${q(0.25).toFixed(3)}–${q(0.75).toFixed(3)})`;
}

/**
 * Sleeps `ms` on this thread (Atomics.wait, which Node allows on its main thread). Between the
 * rounds of two threaded trainers: the workers of the one that just ran spin about a millisecond
 * on their next step before they block, and would take a core from the other's first steps.
 */
export function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
