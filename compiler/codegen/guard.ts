// The non-finite guard, as generated code: `train_step_checked` runs the same kernels as
// `train_step`, in the same (program) order — the memory plan's buffer reuse assumes that order —
// but stops before the updates written in place (the program's last kernels, passes/in_place.ts);
// it checks the loss, every gradient (in backward order) and every new value (parameters,
// running statistics, optimizer state), and only then runs the in-place updates and copies the
// other new values over. A step that meets NaN or ±Inf therefore writes no parameter and no
// optimizer state: the trainer stays as it was before that step.
// The checks read each gradient and new value once (against a step's batch × parameters
// multiply-adds); a value written in place is computed once more for its check, from the old
// values, storing nothing (emit.ts, `finite<id>`). The plain `train_step` runs no check.
import type { Graph, NodeId } from '../ir/types.ts';
import { gradientPorts, gradName, LOSS, updateName } from '../../runtime/ports.ts';
import type { MemoryPlan } from './plan.ts';
import { commitUpdates } from './counter.ts';

/** The guard's status word and the last finite gradient norms, placed after the arena. */
export interface GuardLayout {
  /** Byte offset of the i32 status: −1 after a finite step, else the index in `checks` of the first non-finite tensor. */
  readonly offset: number;
  readonly bytes: number;
  /** What is checked, in order: `loss`, `grad:<param>` in backward order, then `update:<target>`. */
  readonly checks: readonly string[];
  /** The parameters whose gradient norms follow the status word, one f32 each, in this order. */
  readonly norms: readonly string[];
}

interface Gradient {
  readonly param: string;
  /** Position in `norms` (parameter order). */
  readonly index: number;
  readonly grad: NodeId;
}

/** Gradients in the order the backward pass computes them: the last layer's first (lower node ids). */
function backwardOrder(graph: Graph): Gradient[] {
  return gradientPorts(graph)
    .map((p, index) => ({ param: p.param, index, grad: p.id }))
    .sort((a, b) => a.grad - b.grad);
}

/** Updates in check order: trained parameters in backward order, then the rest (running statistics, optimizer state). */
function updateOrder(graph: Graph): Graph['updates'] {
  const rank = new Map(backwardOrder(graph).map((g, k) => [g.param, k]));
  return [...graph.updates].sort((a, b) => (rank.get(a.target) ?? Infinity) - (rank.get(b.target) ?? Infinity));
}

export function guardLayout(graph: Graph, offset: number): GuardLayout {
  const order = backwardOrder(graph);
  const norms = gradientPorts(graph).map((p) => p.param);
  return {
    offset,
    bytes: 4 + 4 * norms.length,
    checks: [LOSS, ...order.map((o) => gradName(o.param)), ...updateOrder(graph).map((u) => updateName(u.target))],
    norms,
  };
}

export interface GuardedStep {
  readonly graph: Graph;
  readonly plan: MemoryPlan;
  readonly layout: GuardLayout;
  readonly batchSize: number;
  /** The loss train_step returns (the training pass's where there is one). */
  readonly loss: NodeId;
  readonly predictions: readonly NodeId[];
  /** Kernel calls, in program order, that compute `wanted`, except the in-place updates. */
  readonly calls: (wanted: readonly NodeId[]) => string[];
  /** The in-place update kernels' calls, in program order: they run once the step is known finite. */
  readonly inPlace: readonly string[];
  /** Code to run once the step is known finite, before any new value is written (telemetry). */
  readonly beforeCommit?: readonly string[];
}

export function emitGuardedStep({ graph, plan, layout, batchSize, loss, predictions, calls, inPlace, beforeCommit = [] }: GuardedStep): string {
  const order = backwardOrder(graph);
  const updates = updateOrder(graph);
  const status = layout.offset;
  const fail = (k: number): string => `{ store<i32>(${status}, ${k}); return loss; }`;
  const at = (id: NodeId): number => plan.offsets.get(id)!;
  const count = (id: NodeId): number => plan.sizes.get(id)! / 4;
  return [
    `/** train_step with the non-finite guard: returns the loss; the status word at ${status} says which tensor went non-finite (−1: none). */`,
    `export function train_step_checked(n: i32): f32 {`,
    `  if (n < 1 || n > ${batchSize}) return NaN;`,
    ...calls([...predictions, loss, ...order.map((o) => o.grad), ...updates.map((u) => u.value)]),
    `  const loss = load<f32>(${at(loss)});`,
    `  if (!isFinite(loss)) ${fail(0)}`,
    ...order.map((o, k) => `  const g${o.index} = sum_squares(${at(o.grad)}, ${count(o.grad)}); // ${o.param}\n  if (!isFinite(g${o.index})) ${fail(1 + k)}`),
    ...updates.map((u, k) => {
      const finite = plan.inPlace.has(u.value) ? `finite${u.value}(n)` : `all_finite(${at(u.value)}, ${count(u.value)})`;
      return `  if (!${finite}) ${fail(1 + order.length + k)} // ${u.target}`;
    }),
    ...order.map((o) => `  store<f32>(${status + 4 + 4 * o.index}, <f32>Math.sqrt(g${o.index}));`),
    ...beforeCommit,
    ...inPlace,
    ...commitUpdates(graph, plan),
    `  store<i32>(${status}, -1);`,
    `  return loss;`,
    `}`,
  ].join('\n');
}
