// Fusion: groups the nodes of a training graph into kernels, each one pass over memory.
//
//   gemm         matmul X·Wᵀ + bias row (+ relu, tanh): the bias and activation are the GEMM's
//                epilogue, applied to the accumulators before the store
//   elementwise  a tree of elementwise ops of one shape: activation derivative × upstream
//                gradient, the loss chain, the optimizer update w − η·g, ... one loop; a sum
//                over the rows of its output (a bias gradient) is taken in the same loop
//   node         any other node, run by its own template
//
// A node joins its consumer's kernel only if that consumer is its one reader and the host never
// reads it (outputs and update values are materialised), so nothing a kernel hides is needed
// elsewhere. The program prints as text: which kernels, which ops each holds.
import type { Graph, Node, NodeId } from '../ir/types.ts';
import { sameShape, shapeToString } from '../ir/types.ts';
import { opDef } from '../ops/registry.ts';

export type Kernel =
  | {
      readonly kind: 'node';
      readonly out: NodeId;
      readonly holds: readonly NodeId[];
      /** Readers of `out` its template computes in the same pass (FusedReaders): then they are written, and `out` is not. */
      readonly readers?: readonly NodeId[];
    }
  | {
      readonly kind: 'elementwise';
      readonly out: NodeId;
      readonly holds: readonly NodeId[];
      /** A sum over axis 0 of the [rows, cols] output, written as a second output of this kernel. */
      readonly columnSums?: NodeId;
    }
  | {
      readonly kind: 'gemm';
      readonly out: NodeId;
      readonly holds: readonly NodeId[];
      readonly matmul: NodeId;
      readonly bias?: NodeId;
      /** A unary elementwise op with an f32x4 form (relu, tanh), applied before the store. */
      readonly activation?: string;
    };

export interface Program {
  readonly graph: Graph;
  /** In schedule order; every computed node is the `out` of one kernel or held inside one. */
  readonly kernels: readonly Kernel[];
}

const isElementwise = (node: Node): boolean => opDef(node.op).template.kind === 'elementwise';
const hasSimd = (node: Node): boolean => {
  const t = opDef(node.op).template;
  return t.kind === 'elementwise' && t.simd !== undefined;
};

/** The nodes whose buffers a kernel reads: inputs of its held nodes that it does not hold. */
export function kernelInputs(graph: Graph, kernel: Kernel): NodeId[] {
  const held = new Set(kernel.holds);
  return [...new Set(kernel.holds.flatMap((id) => graph.nodes[id]!.inputs))].filter((i) => !held.has(i));
}

/** The nodes a kernel writes to memory: its output, and the column sums it takes on the way; or the readers it computes in its pass. */
export function kernelOutputs(kernel: Kernel): NodeId[] {
  if (kernel.kind === 'node' && kernel.readers) return [...kernel.readers];
  return kernel.kind === 'elementwise' && kernel.columnSums !== undefined ? [kernel.out, kernel.columnSums] : [kernel.out];
}

/** One kernel per computed node: the unfused program. */
export function unfused(graph: Graph): Program {
  const kernels = graph.nodes.filter((n) => opDef(n.op).template.kind !== 'source').map((n): Kernel => ({ kind: 'node', out: n.id, holds: [n.id] }));
  return { graph, kernels };
}

export function fuse(graph: Graph): Program {
  const readers = new Map<NodeId, number>();
  const readersOf = new Map<NodeId, NodeId[]>();
  for (const node of graph.nodes) {
    for (const i of node.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
    for (const i of new Set(node.inputs)) readersOf.set(i, [...(readersOf.get(i) ?? []), node.id]);
  }
  const visible = new Set<NodeId>([...graph.outputs.map((p) => p.id), ...graph.updates.map((u) => u.value)]);
  // Only one reader, not seen by the host: the value may live in registers inside a kernel.
  const private_ = (id: NodeId): boolean => readers.get(id) === 1 && !visible.has(id);
  const node = (id: NodeId): Node => graph.nodes[id]!;
  const inGemm = new Set<NodeId>();
  const kernels = new Map<NodeId, Kernel>();

  for (const n of graph.nodes) {
    if (opDef(n.op).template.kind === 'source') continue;
    const gemm = gemmEpilogue(n);
    if (gemm) {
      kernels.set(n.id, gemm);
      for (const id of gemm.holds) inGemm.add(id);
      continue;
    }
    if (isElementwise(n)) {
      const holds = elementwiseTree(n);
      kernels.set(n.id, { kind: holds.length > 1 ? 'elementwise' : 'node', out: n.id, holds });
      continue;
    }
    kernels.set(n.id, { kind: 'node', out: n.id, holds: [n.id] });
  }

  /** act(add(matmul(X, Wᵀ), b)) or add(matmul, b): the matmul's private result feeds the add. */
  function gemmEpilogue(n: Node): Kernel | null {
    let add = n;
    let activation: string | undefined;
    if (n.inputs.length === 1 && hasSimd(n) && private_(n.inputs[0]!) && node(n.inputs[0]!).op === 'add') {
      add = node(n.inputs[0]!);
      activation = n.op;
    }
    if (add.op !== 'add') return null;
    const [mm, bias] = add.inputs.map(node);
    if (mm!.op !== 'matmul' || !private_(mm!.id) || mm!.attrs['transA'] || !mm!.attrs['transB']) return null;
    if (typeof mm!.shape[1] !== 'number' || typeof node(mm!.inputs[1]!).shape[1] !== 'number') return null;
    if (bias!.shape.length !== 1 || bias!.shape[0] !== mm!.shape[1] || !sameShape(add.shape, mm!.shape)) return null;
    const holds = activation ? [mm!.id, add.id, n.id] : [mm!.id, add.id];
    return { kind: 'gemm', out: n.id, holds, matmul: mm!.id, bias: bias!.id, ...(activation ? { activation } : {}) };
  }

  /** The elementwise nodes of n's shape and SIMD kind that only n reads, recursively (n last). */
  function elementwiseTree(n: Node): NodeId[] {
    const held: NodeId[] = [];
    const visit = (m: Node): void => {
      for (const i of m.inputs) {
        const p = node(i);
        if (isElementwise(p) && private_(p.id) && sameShape(p.shape, n.shape) && hasSimd(p) === hasSimd(n) && !inGemm.has(p.id)) visit(p);
      }
      held.push(m.id);
    };
    visit(n);
    return held;
  }

  // A node held by a later kernel had its own kernel when it was visited: drop that one.
  const held = new Set([...kernels.values()].flatMap((k) => k.holds.filter((id) => id !== k.out)));
  for (const id of held) kernels.delete(id);

  // A column sum (sum over axis 0 of [rows, cols]: a bias gradient) of an elementwise kernel's
  // output joins that kernel, which adds each row to the sums while the row is in registers.
  // The fused loop walks rows, so it needs a row of at least one f32x4: with fewer columns the
  // flat loop over all rows·cols stays SIMD, and a separate sum is cheaper.
  for (const n of graph.nodes) {
    if (n.op !== 'sum' || !kernels.has(n.id)) continue;
    const attrs = n.attrs as { axes: readonly number[]; keepDims?: boolean };
    const x = node(n.inputs[0]!);
    const producer = kernels.get(x.id);
    const cols = x.shape[1];
    if (attrs.axes.length !== 1 || attrs.axes[0] !== 0 || attrs.keepDims || x.shape.length !== 2 || typeof cols !== 'number' || cols < 4 || !producer) continue;
    if (producer.kind === 'gemm' || (producer.kind === 'node' && !isElementwise(x)) || (producer.kind === 'elementwise' && producer.columnSums !== undefined)) continue;
    kernels.set(x.id, { kind: 'elementwise', out: x.id, holds: producer.holds, columnSums: n.id });
    kernels.delete(n.id);
  }

  // An op whose template computes some of its readers in its own pass (FusedReaders) takes them
  // over when they are all it has, each a kernel of its own that reads the op's value first.
  for (const n of graph.nodes) {
    const template = opDef(n.op).template;
    if (template.kind !== 'kernel' || !template.fusedReaders || !kernels.has(n.id) || visible.has(n.id)) continue;
    const ops = template.fusedReaders.ops;
    const rs = (readersOf.get(n.id) ?? []).map(node);
    const fits = (r: Node): boolean => {
      const k = kernels.get(r.id);
      // The pass runs where n runs: a reader's other inputs must be there already (labels, say).
      const others = r.inputs.slice(1).map(node);
      return ops.includes(r.op) && r.inputs[0] === n.id && others.every((i) => opDef(i.op).template.kind === 'source') && k?.kind === 'node' && k.holds.length === 1;
    };
    if (rs.length === 0 || !rs.every(fits) || new Set(rs.map((r) => r.op)).size !== rs.length) continue;
    kernels.set(n.id, { kind: 'node', out: n.id, holds: [n.id, ...rs.map((r) => r.id)], readers: rs.map((r) => r.id) });
    for (const r of rs) kernels.delete(r.id);
  }
  return { graph, kernels: [...kernels.values()] };
}

/** What a kernel does beyond holding its ops: a GEMM's epilogue, column sums, fused readers. */
function fusedNote(graph: Graph, k: Kernel): string {
  if (k.kind === 'gemm') return ` [epilogue: ${['bias', k.activation].filter(Boolean).join(' + ')}]`;
  if (k.kind === 'elementwise' && k.columnSums !== undefined) {
    const sums = graph.nodes[k.columnSums]!;
    return ` [+ column sums %${sums.id} ${shapeToString(sums.shape)}${sums.label ? ` ${sums.label}` : ''}]`;
  }
  if (k.kind === 'node' && k.readers) return ` [one pass; writes ${k.readers.map((r) => `%${r}`).join(', ')}, not %${k.out}]`;
  return '';
}

export function printProgram(program: Program): string {
  const { graph } = program;
  return program.kernels
    .map((k) => {
      const out = graph.nodes[k.out]!;
      const ops = k.holds.map((id) => `${graph.nodes[id]!.op} %${id}`).join(' → ');
      const ins = kernelInputs(graph, k).map((i) => `%${i}`).join(', ');
      const extra = fusedNote(graph, k);
      return `${k.kind.padEnd(11)} %${k.out} ${shapeToString(out.shape)} ← (${ins})  ${ops}${extra}${out.label ? `  # ${out.label}` : ''}`;
    })
    .join('\n');
}
