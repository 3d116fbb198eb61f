// Shared by the hardening suites: how many cases a fuzz run tries, and snapshots of everything a
// rejected call must leave alone.
import type { Trainer } from '../../runtime/trainer.ts';
import type { ModelRunner } from '../../runtime/runner.ts';

/** `base` cases, or NABLA_FUZZ_RUNS when set (for longer runs outside the test command). */
export function fuzzRuns(base: number): number {
  const env = Number(process.env.NABLA_FUZZ_RUNS);
  return Number.isSafeInteger(env) && env > 0 ? env : base;
}

/** The fast-check seed of every suite: a failure reproduces. */
export const FUZZ_SEED = 20261201;

/** Weights, optimizer state and step counter of a model, as bits. */
export interface StateSnapshot {
  readonly weights: Record<string, (number | string)[]>;
  readonly state: Record<string, (number | string)[]>;
  readonly steps: number;
}

/** Bit patterns (float64 ones as decimal strings of their 64 bits, which a number cannot hold exactly). */
const bits = (data: Float32Array | Float64Array | Uint32Array): (number | string)[] =>
  data instanceof Float64Array ? Array.from(new BigUint64Array(data.buffer, data.byteOffset, data.length), String) : Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));

export function snapshot(model: ModelRunner<Float32Array | Float64Array> | Trainer): StateSnapshot {
  const weights = Object.fromEntries(Object.entries(model.getWeights()).map(([k, v]) => [k, bits(v.data.slice())]));
  const views = (model as Partial<Trainer>).views;
  const state = views ? Object.fromEntries(Object.entries(views.state).map(([k, v]) => [k, bits(v.slice())])) : {};
  return { weights, state, steps: model.guard.steps };
}
