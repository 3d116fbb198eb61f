// The memory plan: every tensor of the training graph at a fixed byte offset in one arena,
// sized for the compiled maximum batch, so a step allocates nothing.
//
// Only kernel outputs get buffers (values held inside a fused kernel never reach memory).
// Buffers the host sees or that outlive a step are pinned: parameters (first and contiguous),
// inputs, the prediction, the loss, the gradients and the update values (copied into the
// parameters at the end of a step). Every other tensor, and each kernel's scratch, lives from
// the kernel that writes it to the last kernel that reads it, in schedule order; a finished
// buffer's bytes go back to a free list and the next allocation takes the first hole that
// fits. A node's output never shares bytes with its own inputs (kernels are not in-place).
// The entry points run subsets of one schedule in the same order, so lifetimes that do not
// overlap in the full step do not overlap in any of them.
import type { Graph, NodeId } from '../ir/types.ts';
import { numel } from '../ir/types.ts';
import { opDef } from '../ops/registry.ts';
import { kernelInputs, kernelOutputs, type Program } from '../passes/fuse.ts';
import { generatedScratchBytes } from './generators.ts';

export interface MemoryPlan {
  readonly offsets: ReadonlyMap<NodeId, number>;
  readonly sizes: ReadonlyMap<NodeId, number>;
  /** Scratch buffers of the kernels that ask for one (byte offset), by the kernel's output node. */
  readonly scratch: ReadonlyMap<NodeId, number>;
  /** Their sizes in bytes. */
  readonly scratchSizes: ReadonlyMap<NodeId, number>;
  /** First byte after the arena. */
  readonly end: number;
  /** What the arena would take with one buffer per tensor and per scratch (no reuse), parameters, state and inputs included. */
  readonly unsharedBytes: number;
}

/** Offset 0 stays unused, so no tensor sits at the null address. */
export const ARENA_START = 64;
const ALIGN = 16;
const aligned = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

/** First-fit allocation over a list of free holes, merged on release. */
class Arena {
  private holes: { at: number; size: number }[] = [];
  private top = ARENA_START;
  /** High-water mark: the first byte no buffer ever used. */
  end = ARENA_START;

  take(bytes: number): number {
    const size = aligned(Math.max(bytes, 1));
    const hole = this.holes.find((h) => h.size >= size);
    if (!hole) {
      const at = this.top;
      this.top += size;
      this.end = Math.max(this.end, this.top);
      return at;
    }
    const at = hole.at;
    hole.at += size;
    hole.size -= size;
    this.holes = this.holes.filter((h) => h.size > 0);
    return at;
  }

  release(at: number, bytes: number): void {
    this.holes.push({ at, size: aligned(Math.max(bytes, 1)) });
    this.holes.sort((a, b) => a.at - b.at);
    const merged: { at: number; size: number }[] = [];
    for (const h of this.holes) {
      const last = merged[merged.length - 1];
      if (last && last.at + last.size === h.at) last.size += h.size;
      else merged.push({ ...h });
    }
    // A hole at the top of the arena shrinks it instead.
    const last = merged[merged.length - 1];
    if (last && last.at + last.size === this.top) {
      this.top = last.at;
      merged.pop();
    }
    this.holes = merged;
  }
}

export function planMemory(program: Program, batchSize: number): MemoryPlan {
  const { graph } = program;
  const offsets = new Map<NodeId, number>();
  const sizes = new Map<NodeId, number>();
  const scratch = new Map<NodeId, number>();
  const scratchSizes = new Map<NodeId, number>();
  const arena = new Arena();
  const bytesOf = (id: NodeId): number => numel(graph.nodes[id]!.shape, batchSize) * 4;
  const place = (id: NodeId): void => {
    if (offsets.has(id)) return;
    sizes.set(id, bytesOf(id));
    offsets.set(id, arena.take(bytesOf(id)));
  };

  const pinned = new Set<NodeId>([
    ...graph.params.map((p) => p.id),
    ...graph.inputs.map((p) => p.id),
    ...graph.outputs.map((p) => p.id),
    ...graph.updates.map((u) => u.value),
    ...(graph.state ?? []).map((st) => st.id),
  ]);
  for (const p of graph.params) place(p.id);
  // Optimizer state persists between steps, like the parameters: never a candidate for reuse.
  for (const st of graph.state ?? []) place(st.id);
  for (const p of graph.inputs) place(p.id);

  // Lifetimes run over kernels: a value held inside a kernel never gets a buffer.
  const reads = program.kernels.map((k) => kernelInputs(graph, k).filter((i) => graph.nodes[i]!.op !== 'constant'));
  const lastUse = new Map<NodeId, number>();
  reads.forEach((ids, t) => ids.forEach((i) => lastUse.set(i, t)));

  // Parameters, optimizer state and inputs have one buffer each either way.
  let unsharedBytes = arena.end;
  program.kernels.forEach((kernel, t) => {
    const outs = kernelOutputs(kernel);
    for (const id of outs) {
      unsharedBytes += aligned(bytesOf(id));
      place(id);
    }
    const bytes = kernel.holds.reduce((most, id) => Math.max(most, scratchBytesOf(graph, id, batchSize)), 0);
    if (bytes > 0) {
      unsharedBytes += aligned(bytes);
      const at = arena.take(bytes);
      scratch.set(kernel.out, at);
      scratchSizes.set(kernel.out, bytes);
      arena.release(at, bytes);
    }
    // Inputs read for the last time here, and an output nobody reads, give their bytes back.
    const done = reads[t]!.filter((i) => lastUse.get(i) === t);
    done.push(...outs.filter((id) => !lastUse.has(id)));
    for (const id of done) if (!pinned.has(id)) arena.release(offsets.get(id)!, sizes.get(id)!);
  });
  return { offsets, sizes, scratch, scratchSizes, end: arena.end, unsharedBytes };
}

function scratchBytesOf(graph: Graph, id: NodeId, batchSize: number): number {
  const node = graph.nodes[id]!;
  const inputs = node.inputs.map((i) => graph.nodes[i]!);
  const template = opDef(node.op).template;
  if (template.kind === 'kernel') return template.scratchBytes?.(node, inputs, node.attrs, batchSize) ?? 0;
  if (template.kind === 'generated') return generatedScratchBytes(node, inputs, batchSize);
  return 0;
}

export function printPlan(graph: Graph, plan: MemoryPlan): string {
  const rows = [...plan.offsets].map(([id, offset]) => {
    const node = graph.nodes[id]!;
    return `%${id} @${offset} ${plan.sizes.get(id)} B  ${node.op}${node.label ? ` (${node.label})` : ''}`;
  });
  const scratch = [...plan.scratch].map(([id, offset]) => `scratch of %${id} @${offset}`);
  return [...rows, ...scratch, `arena end ${plan.end} B (${plan.unsharedBytes} B without reuse)`].join('\n');
}
