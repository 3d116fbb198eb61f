// The non-finite guard's user side. Engines run a checked step and say which tensor, if any, went
// NaN or ±Inf (the compiled trainer in generated code, see compiler/codegen/guard.ts); this file
// counts steps and turns a report into an error that names the step, the tensor and the last
// finite gradient norms. In both engines a failed step writes no parameter.
import type { BatchEngine, BatchResult } from './runner.ts';
import type { History } from './fit.ts';

/** What an engine reports when a step met a non-finite value. */
export interface NonFinite {
  /** `loss`, `grad:<param>` or `update:<param>`: the first non-finite tensor, in backward order. */
  readonly tensor: string;
  /** Gradient L2 norm per parameter at the last step whose gradients were all finite (absent before any). */
  readonly lastFiniteGradNorms: ReadonlyMap<string, number> | null;
}

function describe(tensor: string): string {
  if (tensor === 'loss') return 'the loss';
  if (tensor.startsWith('grad:')) return `the gradient of ${tensor.slice(5)} (${tensor})`;
  if (tensor.startsWith('update:')) return `the updated value of ${tensor.slice(7)} (${tensor})`;
  return tensor;
}

function normsText(norms: ReadonlyMap<string, number> | null): string {
  if (!norms) return 'no earlier step had finite gradients';
  return `last finite gradient norms: ${[...norms].map(([name, v]) => `${name} ${v.toPrecision(4)}`).join(', ')}`;
}

/** Training met NaN or ±Inf. The parameters are those from before `step`. */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
  constructor(
    /** 1-based count of training steps of this model, the failed one included. */
    readonly step: number,
    readonly tensor: string,
    readonly lastFiniteGradNorms: ReadonlyMap<string, number> | null,
    /** Where in fit() it happened, e.g. `epoch 3, batch 2 of 10`. */
    readonly where?: string,
    /** fit(): the epochs completed before the failure. */
    readonly history?: History,
  ) {
    super(
      `non-finite value at step ${step}${where ? ` (${where})` : ''}: ${describe(tensor)} became NaN or ±Inf, the first in backward order; ` +
        `training stopped and the weights are those from before this step; ${normsText(lastFiniteGradNorms)}. ` +
        `A smaller learning rate, standardised inputs or gradient clipping usually help`,
    );
  }

  /** The same error with fit's position and the history so far attached. */
  at(where: string, history: History): NonFiniteError {
    return new NonFiniteError(this.step, this.tensor, this.lastFiniteGradNorms, where, history);
  }
}

/** Counts a model's training steps and throws NonFiniteError on a step an engine reports non-finite. */
export class StepGuard {
  private count = 0;

  get steps(): number {
    return this.count;
  }

  /** init() starts the model afresh: the next step is step 1 again. */
  reset(): void {
    this.count = 0;
  }

  step<D extends Float32Array | Float64Array>(engine: BatchEngine<D>, x: readonly Float64Array[], y: readonly Float64Array[], n: number): BatchResult<D> {
    const result = engine.trainBatch(x, y, n);
    this.count++;
    if (result.nonFinite) throw new NonFiniteError(this.count, result.nonFinite.tensor, result.nonFinite.lastFiniteGradNorms);
    return result;
  }
}
