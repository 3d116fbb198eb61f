// The memory plan: every tensor of the training graph at a fixed byte offset in one arena,
// sized for the compiled maximum batch. Parameters come first and contiguous. For now each
// tensor has its own buffer; liveness-based reuse is a later pass over this same plan.
import type { Graph, NodeId } from '../ir/types.ts';
import { numel } from '../ir/types.ts';
import { opDef } from '../ops/registry.ts';

export interface MemoryPlan {
  readonly offsets: ReadonlyMap<NodeId, number>;
  readonly sizes: ReadonlyMap<NodeId, number>;
  /** Scratch buffers of the nodes whose kernels ask for one (byte offset). */
  readonly scratch: ReadonlyMap<NodeId, number>;
  /** First byte after the arena. */
  readonly end: number;
}

/** Offset 0 stays unused, so no tensor sits at the null address. */
export const ARENA_START = 64;
const ALIGN = 16;

export function planMemory(graph: Graph, batchSize: number): MemoryPlan {
  const offsets = new Map<NodeId, number>();
  const sizes = new Map<NodeId, number>();
  let at = ARENA_START;
  const place = (id: NodeId): void => {
    if (offsets.has(id)) return;
    const bytes = numel(graph.nodes[id]!.shape, batchSize) * 4;
    offsets.set(id, at);
    sizes.set(id, bytes);
    at += Math.ceil(bytes / ALIGN) * ALIGN;
  };
  for (const p of graph.params) place(p.id);
  for (const node of graph.nodes) if (node.op !== 'constant') place(node.id);
  const scratch = new Map<NodeId, number>();
  for (const node of graph.nodes) {
    const template = opDef(node.op).template;
    const bytes = template.kind === 'kernel' ? (template.scratchBytes?.(node, node.inputs.map((i) => graph.nodes[i]!), node.attrs) ?? 0) : 0;
    if (bytes === 0) continue;
    scratch.set(node.id, at);
    at += Math.ceil(bytes / ALIGN) * ALIGN;
  }
  return { offsets, sizes, scratch, end: at };
}

export function printPlan(graph: Graph, plan: MemoryPlan): string {
  const rows = [...plan.offsets].map(([id, offset]) => {
    const node = graph.nodes[id]!;
    return `%${id} @${offset} ${plan.sizes.get(id)} B  ${node.op}${node.label ? ` (${node.label})` : ''}`;
  });
  const scratch = [...plan.scratch].map(([id, offset]) => `scratch of %${id} @${offset}`);
  return [...rows, ...scratch, `arena end ${plan.end} B`].join('\n');
}
