// The non-finite guard, as generated code: `train_step_checked` runs the same kernels as
// `train_step`, in the same (program) order — the memory plan's buffer reuse assumes that order —
// but stops before the updates written in place (the program's last kernels, passes/in_place.ts);
// it checks the loss, every gradient (in backward order) and every new value (parameters,
// running statistics, optimizer state), and only then runs the in-place updates and copies the
// other new values over. A step that meets NaN or ±Inf therefore writes no parameter and no
// optimizer state: the trainer stays as it was before that step.
// The checks read each gradient and new value once (against a step's batch × parameters
// multiply-adds); a value written in place is computed once more for its check, from the old
// values, storing nothing (emit.ts, `finite<id>`). Both kinds of check are data, not code per
// parameter: the gradients a table of rows one loop walks, the new values kernel-table check
// functions shared by equal updates (kernel_table.ts). The plain `train_step` runs no check.
import type { Graph, NodeId } from '../ir/types.ts';
import { gradientPorts, gradName, LOSS, updateName } from '../../runtime/ports.ts';
import type { MemoryPlan } from './plan.ts';

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
  /** An i32 expression: the position in `values` of the first update value that is not all finite, or −1 (kernel_table.ts). */
  readonly firstNonFinite: (values: readonly NodeId[]) => string;
  /** The in-place update kernels' calls, in program order: they run once the step is known finite. */
  readonly inPlace: readonly string[];
  /** Code to run once the step is known finite, before any new value is written (telemetry). */
  readonly beforeCommit?: readonly string[];
  /** The statements that copy the new values not written in place over their targets (counter.ts). */
  readonly commit: readonly string[];
}

export interface EmittedGuard {
  readonly source: string;
  /** Bytes of its static data (the gradients' table and the norms of the step in progress). */
  readonly staticBytes: number;
}

/**
 * The guarded step. The gradients are a table of (address, f32 count, norm slot) rows in backward
 * order that one loop walks: a non-finite Σg² stops it, a finite one leaves its norm in
 * PENDING_NORMS, copied over the last finite norms only once the whole step is known finite.
 */
export function emitGuardedStep({ graph, plan, layout, batchSize, loss, predictions, calls, firstNonFinite, inPlace, beforeCommit = [], commit }: GuardedStep): EmittedGuard {
  const order = backwardOrder(graph);
  const updates = updateOrder(graph);
  const status = layout.offset;
  const fail = (k: string): string => `{ store<i32>(${status}, ${k}); return loss; }`;
  const at = (id: NodeId): number => plan.offsets.get(id)!;
  const count = (id: NodeId): number => plan.sizes.get(id)! / 4;
  const rows = order.map((o) => `  ${at(o.grad)}, ${count(o.grad)}, ${o.index}, // ${o.param}`);
  const gradientChecks = order.length
    ? [
        `  const badGradient = gradient_norms();`,
        `  if (badGradient >= 0) ${fail('1 + badGradient')}`,
      ]
    : [];
  const updateChecks = updates.length
    ? [
        `  const badUpdate = ${firstNonFinite(updates.map((u) => u.value))};`,
        `  if (badUpdate >= 0) ${fail(`${1 + order.length} + badUpdate`)}`,
      ]
    : [];
  const source = [
    `/** The gradients the guard checks, in backward order: (address, f32 count, slot of its norm). */`,
    `const GUARD_GRADIENTS = memory.data<u32>([`,
    ...(rows.length ? rows : ['  0, 0, 0,']),
    `]);`,
    `/** This step's gradient norms until the step is known finite. */`,
    `const PENDING_NORMS = memory.data(${4 * Math.max(1, order.length)}, 16);`,
    '',
    `/** Each gradient's norm into PENDING_NORMS: the position of the first that is not finite, or −1. */`,
    `function gradient_norms(): i32 {`,
    `  for (let k = 0; k < ${order.length}; k++) {`,
    `    const row = GUARD_GRADIENTS + <usize>k * 12;`,
    `    const squares = sum_squares(<usize>load<u32>(row), <i32>load<u32>(row, 4));`,
    `    if (!isFinite(squares)) return k;`,
    `    store<f32>(PENDING_NORMS + (<usize>load<u32>(row, 8) << 2), <f32>Math.sqrt(squares));`,
    `  }`,
    `  return -1;`,
    `}`,
    '',
    `/** train_step with the non-finite guard: returns the loss; the status word at ${status} says which tensor went non-finite (−1: none). */`,
    `export function train_step_checked(n: i32): f32 {`,
    `  if (n < 1 || n > ${batchSize}) return NaN;`,
    ...calls([...predictions, loss, ...order.map((o) => o.grad), ...updates.map((u) => u.value)]),
    `  const loss = load<f32>(${at(loss)});`,
    `  if (!isFinite(loss)) ${fail('0')}`,
    ...gradientChecks,
    ...updateChecks,
    ...(order.length ? [`  memory.copy(${status + 4}, PENDING_NORMS, ${4 * order.length});`] : []),
    ...beforeCommit,
    ...inPlace,
    ...commit,
    `  store<i32>(${status}, -1);`,
    `  return loss;`,
    `}`,
  ].join('\n');
  const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;
  return { source, staticBytes: align(12 * Math.max(1, order.length)) + align(4 * Math.max(1, order.length)) + 16 };
}
