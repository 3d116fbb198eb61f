// Writing a step's new values over the parameters and state. An update written in place
// (passes/in_place.ts) is there already; every other target takes its update value's bytes, except the step counter: it is a u32 in memory (an f32 stops at 2²⁴ = 16,777,216,
// where t + 1 rounds back to t, freezing schedules and repeating dropout masks), so it is
// incremented as an integer. Its f32 update value t + 1 is still computed, checked by the guard
// and read by Adam's bias correction; only the stored count is exact. It wraps after 2³² − 1
// steps, as the dropout streams it seeds already do.
import { findPort, type Graph } from '../ir/types.ts';
import { STEP } from '../../runtime/ports.ts';
import type { MemoryPlan } from './plan.ts';

export function commitUpdate(graph: Graph, plan: MemoryPlan, update: Graph['updates'][number]): string {
  const target = (findPort(graph.params, update.target) ?? findPort(graph.state ?? [], update.target))!.id;
  const at = plan.offsets.get(target)!;
  if (update.target !== STEP) return `  memory.copy(${at}, ${plan.offsets.get(update.value)!}, ${plan.sizes.get(target)!}); // ${update.target}`;
  const value = graph.nodes[update.value]!;
  const one = value.inputs.map((id) => graph.nodes[id]!).find((n) => n.op === 'constant' && n.attrs['value'] === 1);
  if (value.op !== 'add' || !value.inputs.includes(target) || !one) throw new Error(`internal: the step counter's update is not ${STEP} + 1`);
  return `  store<u32>(${at}, load<u32>(${at}) + 1); // ${update.target} (u32)`;
}

/** The copies that end a step: one per update not written in place. */
export function commitUpdates(graph: Graph, plan: MemoryPlan): string[] {
  return graph.updates.filter((u) => !plan.inPlace.has(u.value)).map((u) => commitUpdate(graph, plan, u));
}
