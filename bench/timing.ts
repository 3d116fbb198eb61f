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
