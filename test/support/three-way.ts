// The three-way gradient check every model test runs: at weights perturbed away from the
// initializers (so zero-initialised tensors vary too), the interpreter's float64 gradients against
// centered differences (≤ 1e-7) and the compiled float32 ones against the interpreter's (≤ 1e-5).
import { expect } from 'vitest';
import { compile } from '../../compiler/compile.ts';
import { numericalGradients, relativeDifference, trainingLoss } from '../../compiler/gradcheck/numerical.ts';
import { interpret } from '../../compiler/interpret/interpreter.ts';
import type { Feed, Tensor } from '../../runtime/tensor.ts';
import type { Trainer } from '../../runtime/trainer.ts';
import { perturbed } from './data.ts';

export interface ThreeWayOptions {
  /** Differentiate the training-pass loss (batch norm, dropout), as gradients() does. */
  readonly training?: boolean;
  /** Seed of the weight perturbation; null keeps the initializers' weights. */
  readonly perturbSeed?: number | null;
  /** Require every gradient to be non-zero (a zero gradient would make the check prove nothing). */
  readonly nonZero?: boolean;
}

const trainers = new Map<string, Promise<Trainer>>();

/**
 * The compiled trainer of a spec, compiled once per test file: a second check of the same model
 * (the partial batch after the full one) reuses it. Checks set the weights they use.
 */
export function compiledOnce(spec: unknown): Promise<Trainer> {
  const key = JSON.stringify(spec);
  let trainer = trainers.get(key);
  if (!trainer) trainers.set(key, (trainer = compile(spec)));
  return trainer;
}

/** Asserts the agreement; returns the interpreter's gradients for further checks. */
export async function expectThreeWayAgreement(
  spec: unknown,
  x: Feed,
  y: Feed,
  { training = false, perturbSeed = 100, nonZero = true }: ThreeWayOptions = {},
): Promise<{ readonly loss: number; readonly grads: Record<string, Tensor> }> {
  const trainer = await compiledOnce(spec);
  const interpreter = interpret(spec);
  // From the interpreter's initial weights (the trainer's, to float32 rounding): a trainer reused
  // from an earlier check may hold that check's weights.
  const initial = interpreter.getWeights();
  const weights = perturbSeed !== null ? perturbed(initial, perturbSeed) : Object.fromEntries(Object.entries(initial).map(([name, t]) => [name, t.data]));
  trainer.setWeights(weights);
  interpreter.setWeights(weights);

  const exact = interpreter.gradients(x, y);
  const compiled = trainer.gradients(x, y);
  const numerical = numericalGradients(interpreter, x, y, Object.keys(exact.grads), ...(training ? [trainingLoss] : []));

  expect(Math.abs(compiled.loss - exact.loss) / Math.max(1, Math.abs(exact.loss))).toBeLessThan(1e-5);
  for (const [name, g] of Object.entries(exact.grads)) {
    if (nonZero) expect(Math.hypot(...g.data), `${name} has a zero gradient: the check would prove nothing`).toBeGreaterThan(0);
    expect(relativeDifference(g.data, numerical[name]!), `${name}: interpreter vs numerical`).toBeLessThan(1e-7);
    expect(relativeDifference(compiled.grads[name]!.data, g.data), `${name}: compiled vs interpreter`).toBeLessThan(1e-5);
  }
  return exact;
}
