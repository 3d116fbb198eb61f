// The non-finite guard, as generated code: `train_step_checked` runs the forward and backward
// pass, checks the loss and every gradient (in backward order), computes the new weights into
// their own buffers, checks them, and only then copies them over the parameters. A step that
// meets NaN or ±Inf therefore writes no parameter: the weights stay those from before it.
// The checks read each gradient and new weight once (2 × parameters reads, against a step's
// batch × parameters multiply-adds), and the plain `train_step` is left exactly as it was.
import { findPort, type Graph, type NodeId } from '../ir/types.ts';
import { gradName } from '../autodiff/training.ts';
import type { MemoryPlan } from './plan.ts';

/** The guard's status word and the last finite gradient norms, placed after the arena. */
export interface GuardLayout {
  /** Byte offset of the i32 status: −1 after a finite step, else the index in `checks` of the first non-finite tensor. */
  readonly offset: number;
  readonly bytes: number;
  /** What is checked, in order: `loss`, `grad:<param>` in backward order, then `update:<param>`. */
  readonly checks: readonly string[];
}

/** Gradients in the order the backward pass computes them (the last layer's first). */
function backwardOrder(graph: Graph): { param: string; index: number; grad: NodeId }[] {
  return graph.params
    .map((p, index) => ({ param: p.name, index, grad: findPort(graph.outputs, gradName(p.name))!.id }))
    .sort((a, b) => a.grad - b.grad);
}

export function guardLayout(graph: Graph, offset: number): GuardLayout {
  const order = backwardOrder(graph);
  return {
    offset,
    // Status, then one f32 norm per parameter tensor, in parameter order.
    bytes: 4 + 4 * graph.params.length,
    checks: ['loss', ...order.map((o) => gradName(o.param)), ...order.map((o) => `update:${o.param}`)],
  };
}

export function emitGuardedStep(
  graph: Graph,
  plan: MemoryPlan,
  layout: GuardLayout,
  batchSize: number,
  schedule: (wanted: readonly NodeId[]) => NodeId[],
  /** Code to run once the step is known finite, before the new weights are copied in (telemetry). */
  beforeCommit: readonly string[] = [],
): string {
  const port = (name: string): NodeId => findPort(graph.outputs, name)!.id;
  const order = backwardOrder(graph);
  const backward = schedule([port('prediction'), port('loss'), ...order.map((o) => o.grad)]);
  const done = new Set(backward);
  const updates = graph.updates.map((u) => ({ ...u, param: findPort(graph.params, u.param)! }));
  const rest = schedule(updates.map((u) => u.value)).filter((id) => !done.has(id));
  const status = layout.offset;
  const fail = (k: number): string => `{ store<i32>(${status}, ${k}); return loss; }`;
  const count = (id: NodeId): number => plan.sizes.get(id)! / 4;
  const update = (param: string) => updates.find((u) => u.param.name === param)!;
  return [
    `/** train_step with the non-finite guard: returns the loss; the status word at ${status} says which tensor went non-finite (−1: none). */`,
    `export function train_step_checked(n: i32): f32 {`,
    `  if (n < 1 || n > ${batchSize}) return NaN;`,
    ...backward.map((id) => `  node${id}(n);`),
    `  const loss = load<f32>(${plan.offsets.get(port('loss'))!});`,
    `  if (!isFinite(loss)) ${fail(0)}`,
    ...order.map((o, k) => `  const g${o.index} = sum_squares(${plan.offsets.get(o.grad)!}, ${count(o.grad)}); // ${o.param}\n  if (!isFinite(g${o.index})) ${fail(1 + k)}`),
    ...rest.map((id) => `  node${id}(n);`),
    ...order.map((o, k) => {
      const value = update(o.param).value;
      return `  if (!all_finite(${plan.offsets.get(value)!}, ${count(value)})) ${fail(1 + order.length + k)}`;
    }),
    ...order.map((o) => `  store<f32>(${status + 4 + 4 * o.index}, <f32>Math.sqrt(g${o.index}));`),
    ...beforeCommit,
    ...updates.map((u) => `  memory.copy(${plan.offsets.get(u.param.id)!}, ${plan.offsets.get(u.value)!}, ${plan.sizes.get(u.param.id)!}); // ${u.param.name}`),
    `  store<i32>(${status}, -1);`,
    `  return loss;`,
    `}`,
  ].join('\n');
}
