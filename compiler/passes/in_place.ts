// Updates written in place: the kernel that computes a parameter's (or an optimizer slot's) next
// value writes it straight over the old one, so the arena holds no second copy of the parameters
// and a step ends with no copy pass. The graph's rule is that a step reads only old values; an
// update keeps it when
//
//   - its kernel is elementwise over the target's shape (each element read before it is
//     overwritten, at the same index; no other element of the target is read),
//   - only other in-place update kernels read the new value (they then find it in the target's
//     buffer, where it already is),
//   - every other kernel that reads the old value runs before it.
//
// The chosen update kernels move, in their order, to the end of the program: the plan's liveness
// then sees them there, the plain step runs them last, and the guarded step can run everything
// else, check every value (codegen/guard.ts recomputes an in-place value without storing it), and
// only then run them. The step counter (a u32 in memory, counter.ts) and anything else keep a
// buffer of their own and are copied in at the end of the step.
import { sameShape, type Graph, type NodeId } from '../ir/types.ts';
import { opDef } from '../ops/registry.ts';
import { STEP } from '../../runtime/ports.ts';
import { kernelInputs, type Kernel, type Program } from './fuse.ts';

/** A kernel that computes one value per element of its output from the same element of same-shape operands (or scalars). */
function elementwiseKernel(graph: Graph, kernel: Kernel): boolean {
  if (kernel.kind === 'elementwise') return kernel.columnSums === undefined;
  return kernel.kind === 'node' && !kernel.readers && opDef(graph.nodes[kernel.out]!.op).template.kind === 'elementwise';
}

/**
 * The program with its in-place updates chosen and their kernels last. `keep`: targets whose
 * new value must stay in a buffer of its own (telemetry compares new weights with old ones).
 */
export function updateInPlace(program: Program, keep: ReadonlySet<string> = new Set()): Program {
  const { graph } = program;
  const kernelOf = new Map(program.kernels.map((k) => [k.out, k]));
  const targetId = (name: string): NodeId => (graph.params.find((p) => p.name === name) ?? graph.state?.find((s) => s.name === name))!.id;
  const outputs = new Set(graph.outputs.map((p) => p.id));
  const readersOf = new Map<NodeId, Kernel[]>();
  for (const k of program.kernels) for (const i of kernelInputs(graph, k)) readersOf.set(i, [...(readersOf.get(i) ?? []), k]);

  // Candidates by the local rules; then drop, until none changes, those a kept kernel reads or
  // whose target a later chosen kernel still reads.
  let chosen = new Map<NodeId, NodeId>();
  for (const u of graph.updates) {
    const kernel = kernelOf.get(u.value);
    const target = targetId(u.target);
    if (u.target === STEP || keep.has(u.target) || !kernel || outputs.has(u.value)) continue;
    if (!elementwiseKernel(graph, kernel) || !sameShape(graph.nodes[u.value]!.shape, graph.nodes[target]!.shape)) continue;
    if ([...chosen.values()].includes(target)) continue;
    chosen.set(u.value, target);
  }
  for (;;) {
    const order = reorder(program.kernels, chosen);
    const position = new Map(order.map((k, t) => [k.out, t]));
    const next = new Map(
      [...chosen].filter(([value, target]) => {
        const valueReadersChosen = (readersOf.get(value) ?? []).every((k) => chosen.has(k.out));
        const oldReadersFirst = (readersOf.get(target) ?? []).every((k) => k.out === value || position.get(k.out)! < position.get(value)!);
        return valueReadersChosen && oldReadersFirst;
      }),
    );
    if (next.size === chosen.size) break;
    chosen = next;
  }
  return { ...program, kernels: reorder(program.kernels, chosen), inPlace: chosen };
}

/** The kernels with those that write in place moved, in their order, after all others. */
function reorder(kernels: readonly Kernel[], inPlace: ReadonlyMap<NodeId, NodeId>): Kernel[] {
  return [...kernels.filter((k) => !inPlace.has(k.out)), ...kernels.filter((k) => inPlace.has(k.out))];
}
