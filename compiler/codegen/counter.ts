// Writing a step's new values over the parameters and state. An update written in place
// (passes/in_place.ts) is there already; every other target takes its update value's bytes, except the step counter: it is a u32 in memory (an f32 stops at 2²⁴ = 16,777,216,
// where t + 1 rounds back to t, freezing schedules and repeating dropout masks), so it is
// incremented as an integer. Its f32 update value t + 1 is still computed, checked by the guard
// and read by Adam's bias correction; only the stored count is exact. It wraps after 2³² − 1
// steps, as the dropout streams it seeds already do.
import { findPort, type Graph } from '../ir/types.ts';
import { STEP } from '../../runtime/ports.ts';
import type { MemoryPlan } from './plan.ts';

/** The step counter's commit: its u32 incremented in place (its f32 update value is not stored). */
function incrementCounter(graph: Graph, plan: MemoryPlan, update: Graph['updates'][number]): string {
  const target = findPort(graph.state ?? [], update.target)!.id;
  const at = plan.offsets.get(target)!;
  const value = graph.nodes[update.value]!;
  const one = value.inputs.map((id) => graph.nodes[id]!).find((n) => n.op === 'constant' && n.attrs['value'] === 1);
  if (value.op !== 'add' || !value.inputs.includes(target) || !one) throw new Error(`internal: the step counter's update is not ${STEP} + 1`);
  return `  store<u32>(${at}, load<u32>(${at}) + 1); // ${update.target} (u32)`;
}

/** The copies that end a step: a table of (target, value, bytes) rows one loop walks, and the counter's increment. */
export interface Commit {
  /** The table and its loop, emitted once (empty when every update is written in place). */
  readonly definition: string;
  /** The statements that commit a step, for train_step and the guarded step alike. */
  readonly statements: readonly string[];
  readonly staticBytes: number;
}

export function emitCommit(graph: Graph, plan: MemoryPlan): Commit {
  const pending = graph.updates.filter((u) => !plan.inPlace.has(u.value));
  const copies = pending.filter((u) => u.target !== STEP);
  const counter = pending.filter((u) => u.target === STEP).map((u) => incrementCounter(graph, plan, u));
  if (copies.length === 0) return { definition: '', statements: counter, staticBytes: 0 };
  const rows = copies.map((u) => {
    const target = (findPort(graph.params, u.target) ?? findPort(graph.state ?? [], u.target))!.id;
    return `  ${plan.offsets.get(target)!}, ${plan.offsets.get(u.value)!}, ${plan.sizes.get(target)!}, // ${u.target}`;
  });
  const definition = [
    `/** The new values a step copies over their targets: (target, value, bytes). */`,
    `const COMMITS = memory.data<u32>([`,
    ...rows,
    `]);`,
    '',
    `/** Copies every new value not written in place over its target. */`,
    `function commit_copies(): void {`,
    `  for (let k = 0; k < ${rows.length}; k++) {`,
    `    const row = COMMITS + <usize>k * 12;`,
    `    memory.copy(<usize>load<u32>(row), <usize>load<u32>(row, 4), <usize>load<u32>(row, 8));`,
    `  }`,
    `}`,
  ].join('\n');
  return { definition, statements: [`  commit_copies();`, ...counter], staticBytes: Math.ceil((12 * rows.length) / 16) * 16 };
}
