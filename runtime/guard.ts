// The non-finite guard's user side. Engines run a checked step and say which tensor, if any, went
// NaN or ±Inf (the compiled trainer in generated code, see compiler/codegen/guard.ts); this file
// counts steps and turns a report into an error that names the step, the tensor and the last
// finite gradient norms. In both engines a failed step writes no parameter.
import type { Batch, BatchEngine, BatchResult } from './engine.ts';
import type { History } from './history.ts';
import { gradParam, LOSS, updateTarget } from './ports.ts';

export type { NonFinite } from './engine.ts';

function describe(tensor: string): string {
  if (tensor === LOSS) return 'the loss';
  const param = gradParam(tensor);
  if (param !== null) return `the gradient of ${param} (${tensor})`;
  const target = updateTarget(tensor);
  if (target !== null) return `the updated value of ${target} (${tensor})`;
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

  /** One training step on rows [start, start+n) of `data`, in `order` where given. */
  step<D extends Float32Array | Float64Array>(engine: BatchEngine<D>, data: Batch, start: number, n: number, order?: Uint32Array): BatchResult<D> {
    const result = engine.trainBatch(data, start, n, order);
    this.count++;
    if (result.nonFinite) throw new NonFiniteError(this.count, result.nonFinite.tensor, result.nonFinite.lastFiniteGradNorms);
    return result;
  }
}
