// The memory plan: every tensor of the training graph at a fixed byte offset in one arena,
// sized for the compiled maximum batch, so a step allocates nothing.
//
// Only kernel outputs get buffers (values held inside a fused kernel never reach memory).
// Buffers the host sees or that outlive a step are pinned: parameters (first and contiguous),
// optimizer state, inputs, the prediction, the loss, the gradients, and the update values that
// are copied in at the end of a step. An update written in place (passes/in_place.ts) has no
// buffer: its value's offset is its target's. Every other tensor, and each kernel's scratch, lives
// from the kernel that writes it to the last kernel that reads it, in schedule order; a finished
// buffer's bytes go back to a free list and the next allocation takes the first hole that fits.
// A node's output never shares bytes with its own inputs (only in-place updates do).
// The entry points run subsets of one schedule in the same order, so lifetimes that do not
// overlap in the full step do not overlap in any of them.
//
// The plan also states the least any plan of this schedule could take: parameters + optimizer
// state + the peak over kernels of the bytes live together (gradients made so far, inputs,
// outputs, temporaries, scratch), reported as gradients + activations at that peak. Adding all
// gradients to the activations' own peak would overstate it: the forward pass's activations die
// as the backward pass makes the gradients.
import type { Graph, NodeId } from '../ir/types.ts';
import { numel } from '../ir/types.ts';
import { opDef } from '../ops/registry.ts';
import { bufferOf, kernelInputs, kernelOutputs, type ColumnBlock, type Program } from '../passes/fuse.ts';
import { generatedScratchBytes } from './generators.ts';
import { gradientPorts } from '../../runtime/ports.ts';

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
  /** The least the arena could take (bytes, 16-byte aligned buffers), and its parts. */
  readonly minimum: MinimumMemory;
  /** Update values written over their target (value → target), sharing its bytes. */
  readonly inPlace: ReadonlyMap<NodeId, NodeId>;
  /** Reshapes read in the buffer of the node they reshape (reshape → that node; fuse.ts). */
  readonly aliases: ReadonlyMap<NodeId, NodeId>;
  /** Pieces of a concat written in place, each a block of columns of its join's buffer (fuse.ts). */
  readonly blocks: ReadonlyMap<NodeId, ColumnBlock>;
}

/** Parameters (trained or not) and optimizer state, which persist, and the peak of what a step holds beside them. */
export interface MinimumMemory {
  readonly params: number;
  readonly state: number;
  /** At the kernel where the most bytes are live: the gradients made so far... */
  readonly grads: number;
  /** ...and everything else: inputs, outputs, temporaries, that kernel's scratch. */
  readonly peakActivations: number;
  /** params + state + grads + peakActivations. */
  readonly bytes: number;
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
  const inPlace = program.inPlace ?? new Map<NodeId, NodeId>();
  const offsets = new Map<NodeId, number>();
  const sizes = new Map<NodeId, number>();
  const scratch = new Map<NodeId, number>();
  const scratchSizes = new Map<NodeId, number>();
  const arena = new Arena();
  const bytesOf = (id: NodeId): number => numel(graph.nodes[id]!.shape, batchSize) * 4;
  const place = (id: NodeId): void => {
    if (offsets.has(id)) return;
    sizes.set(id, bytesOf(id));
    const target = inPlace.get(id);
    offsets.set(id, target === undefined ? arena.take(bytesOf(id)) : offsets.get(target)!);
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

  // Lifetimes run over kernels: a value held inside a kernel never gets a buffer. A reshape that
  // is no kernel (fuse.ts, aliases) is read in its operand's buffer, which lives until then.
  const aliases = program.aliases ?? new Map<NodeId, NodeId>();
  const reads = program.kernels.map((k) => [...new Set(kernelInputs(graph, k).filter((i) => graph.nodes[i]!.op !== 'constant').map((i) => bufferOf(program, i)))]);
  const lastUse = new Map<NodeId, number>();
  reads.forEach((ids, t) => ids.forEach((i) => lastUse.set(i, t)));

  // The minimum's parts: what lives the whole step, and the bytes of everything else live at each kernel.
  const sum = (ids: readonly NodeId[]): number => ids.reduce((total, id) => total + aligned(bytesOf(id)), 0);
  const grads = new Set(gradientPorts(graph).map((g) => g.id));
  const live = { grads: 0, other: sum(graph.inputs.map((p) => p.id)) };
  let peak = { ...live };

  // Parameters, optimizer state and inputs have one buffer each either way.
  let unsharedBytes = arena.end;
  // A piece of a concat written in place (fuse.ts, blocks) lies in its join's buffer, which the
  // first piece's kernel places and the join's readers keep.
  const blocks = program.blocks ?? new Map<NodeId, ColumnBlock>();
  program.kernels.forEach((kernel, t) => {
    const outs = kernelOutputs(kernel).map((id) => blocks.get(id)?.into ?? id);
    for (const id of outs) {
      if (offsets.has(id)) continue;
      if (!inPlace.has(id)) {
        unsharedBytes += aligned(bytesOf(id));
        live[grads.has(id) ? 'grads' : 'other'] += aligned(bytesOf(id));
      }
      place(id);
    }
    for (const id of kernelOutputs(kernel)) {
      const block = blocks.get(id);
      if (block === undefined) continue;
      offsets.set(id, offsets.get(block.into)! + block.start * 4);
      sizes.set(id, bytesOf(id));
    }
    const bytes = kernel.holds.reduce((most, id) => Math.max(most, scratchBytesOf(graph, id, batchSize)), 0);
    if (live.grads + live.other + aligned(bytes) > peak.grads + peak.other) peak = { grads: live.grads, other: live.other + aligned(bytes) };
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
    for (const id of done) {
      if (pinned.has(id)) continue;
      arena.release(offsets.get(id)!, sizes.get(id)!);
      live.other -= aligned(sizes.get(id)!);
    }
  });
  for (const [alias, root] of aliases) {
    offsets.set(alias, offsets.get(root)!);
    sizes.set(alias, bytesOf(alias));
  }
  const persistent = { params: sum(graph.params.map((p) => p.id)), state: sum((graph.state ?? []).map((st) => st.id)) };
  const minimum = { ...persistent, grads: peak.grads, peakActivations: peak.other, bytes: persistent.params + persistent.state + peak.grads + peak.other };
  return { offsets, sizes, scratch, scratchSizes, end: arena.end, unsharedBytes, minimum, inPlace, aliases, blocks };
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
    const target = plan.inPlace.get(id);
    const root = plan.aliases.get(id);
    const block = plan.blocks.get(id);
    const shared =
      target !== undefined ? `  in place of %${target}` : root !== undefined ? `  the buffer of %${root}` : block !== undefined ? `  columns from ${block.start} of %${block.into}` : '';
    return `%${id} @${offset} ${plan.sizes.get(id)} B  ${node.op}${node.label ? ` (${node.label})` : ''}${shared}`;
  });
  const scratch = [...plan.scratch].map(([id, offset]) => `scratch of %${id} @${offset}`);
  const m = plan.minimum;
  return [
    ...rows,
    ...scratch,
    `arena end ${plan.end} B (${plan.unsharedBytes} B without reuse)`,
    `minimum ${m.bytes} B: parameters ${m.params} + optimizer state ${m.state} + at the peak, gradients ${m.grads} + activations ${m.peakActivations}; arena ${(arenaBytes(plan) / m.bytes).toFixed(3)}× the minimum`,
  ].join('\n');
}

/** The arena's own bytes: from ARENA_START to its end. */
export function arenaBytes(plan: MemoryPlan): number {
  return plan.end - ARENA_START;
}
