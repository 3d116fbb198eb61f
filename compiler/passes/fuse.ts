// Fusion: groups the nodes of a training graph into kernels, each one pass over memory, by the
// named rules below (kernelRules per node, then mergeRules over the program). Kernel kinds:
//
//   gemm         matmul X·Wᵀ + bias row (+ relu, tanh, gelu, ...): the bias and activation are the
//                GEMM's epilogue, applied to the accumulators before the store (the value before
//                the activation stored too where the backward pass reads it); or X·Wᵀ + bias +
//                a residual tensor, added there too
//   elementwise  a tree of elementwise ops of one shape: activation derivative × upstream
//                gradient, the loss chain, the optimizer update w − η·g, ... one loop; a sum
//                over the rows of its output (a bias gradient) is taken in the same loop
//   node         any other node, run by its own template
//
// A node joins its consumer's kernel only if that consumer is its one reader and the host never
// reads it (outputs and update values are materialised), so nothing a kernel hides is needed
// elsewhere. The program prints as text: which kernels, which ops each holds.
import type { Graph, Node, NodeId } from '../ir/types.ts';
import { broadcastAlong } from '../ir/broadcast.ts';
import { sameShape, shapeToString } from '../ir/types.ts';
import { opDef, type OpName } from '../ops/registry.ts';

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
      /** A unary elementwise op with an f32x4 form (relu, tanh, gelu), applied before the store. */
      readonly activation?: OpName;
      /** The add (X·Wᵀ + b), stored too where other kernels read it: a second output of this kernel. */
      readonly preActivation?: NodeId;
      /**
       * The activation's derivative op (gelu_derivative reading the add and the activation),
       * stored as a second output in place of the add where it is the add's only other reader.
       */
      readonly derivative?: NodeId;
      /** A same-shape tensor added after the bias (x + (h·Wᵀ + b), a residual connection): the kernel's output is that sum. */
      readonly residual?: NodeId;
    };

export interface Program {
  readonly graph: Graph;
  /** In schedule order; every computed node is the `out` of one kernel or held inside one. */
  readonly kernels: readonly Kernel[];
  /** Update values written over their target's buffer (value → target node; passes/in_place.ts). */
  readonly inPlace?: ReadonlyMap<NodeId, NodeId>;
  /**
   * Reshapes that are no kernel: their readers read the buffer of the node they reshape (reshape
   * → that node), which lives as long as they do. Row-major order is the same under any shape.
   */
  readonly aliases?: ReadonlyMap<NodeId, NodeId>;
  /**
   * Concats that are no kernel: each piece is written by its own kernel straight into its block of
   * columns of the join's buffer (piece → the join and the first column), rows the join's width
   * apart. The join's buffer lives from the first piece's kernel.
   */
  readonly blocks?: ReadonlyMap<NodeId, ColumnBlock>;
}

/** Where a piece of a concat written in place lies: columns [start, start + its width) of `into`. */
export interface ColumnBlock {
  readonly into: NodeId;
  readonly start: number;
}

/** The node whose buffer holds `id`'s value: the operand of a reshape that is no kernel (aliases), else `id`. */
export const bufferOf = (program: Program, id: NodeId): NodeId => program.aliases?.get(id) ?? id;

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

/** The nodes a kernel writes to memory: its output, and the column sums or the pre-activation it keeps on the way; or the readers it computes in its pass. */
export function kernelOutputs(kernel: Kernel): NodeId[] {
  if (kernel.kind === 'node' && kernel.readers) return [...kernel.readers];
  if (kernel.kind === 'gemm' && kernel.preActivation !== undefined) return [kernel.out, kernel.preActivation];
  if (kernel.kind === 'gemm' && kernel.derivative !== undefined) return [kernel.out, kernel.derivative];
  return kernel.kind === 'elementwise' && kernel.columnSums !== undefined ? [kernel.out, kernel.columnSums] : [kernel.out];
}

/** One kernel per computed node: the unfused program. */
export function unfused(graph: Graph): Program {
  const kernels = graph.nodes.filter((n) => opDef(n.op).template.kind !== 'source').map((n): Kernel => ({ kind: 'node', out: n.id, holds: [n.id] }));
  return { graph, kernels };
}

/** What the rules see: the graph, who reads what, and the kernels made so far (by output node). */
interface Fusion {
  readonly graph: Graph;
  readonly node: (id: NodeId) => Node;
  /** Only one reader, not seen by the host: the value may live in registers inside a kernel. */
  readonly private_: (id: NodeId) => boolean;
  /** Outputs and update values: the host reads them, so they are materialised. */
  readonly visible: ReadonlySet<NodeId>;
  readonly readersOf: ReadonlyMap<NodeId, readonly NodeId[]>;
  readonly kernels: Map<NodeId, Kernel>;
  /** Nodes held by a GEMM kernel made so far. */
  readonly inGemm: Set<NodeId>;
}

/** Per computed node, in graph order, the first rule that answers makes its kernel. */
const kernelRules: readonly { readonly name: string; readonly why: string; readonly kernel: (n: Node, f: Fusion) => Kernel | null }[] = [
  {
    name: 'gemm-residual',
    why: 'x + (h·Wᵀ + b), a residual connection: x is added to the accumulators with the bias, no pass over the layer output',
    kernel: gemmResidual,
  },
  {
    name: 'gemm-epilogue',
    why: 'act(X·Wᵀ + b): the bias row and activation are applied to the accumulators before the store, no pass over the layer output',
    kernel: gemmEpilogue,
  },
  {
    name: 'elementwise-tree',
    why: 'same-shape elementwise ops that only their root reads run as one loop, their values in registers',
    kernel(n, f) {
      if (!isElementwise(n)) return null;
      const holds = elementwiseTree(n, f);
      return { kind: holds.length > 1 ? 'elementwise' : 'node', out: n.id, holds };
    },
  },
  {
    name: 'own-kernel',
    why: 'any other node runs by its own template',
    kernel: (n) => ({ kind: 'node', out: n.id, holds: [n.id] }),
  },
];

/** Then, over the whole program, kernels that take over others. */
const mergeRules: readonly { readonly name: string; readonly why: string; readonly apply: (f: Fusion) => void }[] = [
  {
    name: 'column-sums',
    why: 'a bias gradient (sum over the rows) is taken in the loop that computes its operand, each row still in registers',
    apply: columnSums,
  },
  {
    name: 'fused-readers',
    why: "an op's template computes some of its readers in its own pass (log_softmax: its exp and the label pick)",
    apply: fusedReaders,
  },
];

export function fuse(graph: Graph): Program {
  const readers = new Map<NodeId, number>();
  const readersOf = new Map<NodeId, NodeId[]>();
  for (const node of graph.nodes) {
    for (const i of node.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
    for (const i of new Set(node.inputs)) readersOf.set(i, [...(readersOf.get(i) ?? []), node.id]);
  }
  const visible = new Set<NodeId>([...graph.outputs.map((p) => p.id), ...graph.updates.map((u) => u.value)]);
  const f: Fusion = {
    graph,
    node: (id) => graph.nodes[id]!,
    private_: (id) => readers.get(id) === 1 && !visible.has(id),
    visible,
    readersOf,
    kernels: new Map(),
    inGemm: new Set(),
  };

  for (const n of graph.nodes) {
    if (opDef(n.op).template.kind === 'source') continue;
    const kernel = kernelRules.reduce<Kernel | null>((made, rule) => made ?? rule.kernel(n, f), null)!;
    f.kernels.set(n.id, kernel);
    if (kernel.kind === 'gemm') for (const id of kernel.holds) f.inGemm.add(id);
  }
  // A node held by a later kernel had its own kernel when it was visited: drop that one.
  const held = new Set([...f.kernels.values()].flatMap((k) => k.holds.filter((id) => id !== k.out)));
  for (const id of held) f.kernels.delete(id);

  for (const rule of mergeRules) rule.apply(f);
  const aliases = reshapeAliases(f);
  for (const id of aliases.keys()) f.kernels.delete(id);
  const blocks = concatsInPlace(f);
  return { graph, kernels: [...f.kernels.values()], ...(aliases.size ? { aliases } : {}), ...(blocks.size ? { blocks } : {}) };
}

/**
 * A reshape copies nothing: its readers read its operand's buffer (a chain of reshapes, the first
 * one's). Not where the host reads it (an output, an update value), nor of a buffer the step does
 * not compute (inputs, parameters, optimizer state, whose in-place updates would change it under
 * a later reader) or an update value.
 */
function reshapeAliases({ graph, node, kernels, visible }: Fusion): Map<NodeId, NodeId> {
  const aliases = new Map<NodeId, NodeId>();
  const updates = new Set(graph.updates.map((u) => u.value));
  for (const n of graph.nodes) {
    const kernel = kernels.get(n.id);
    if (n.op !== 'reshape' || kernel?.kind !== 'node' || kernel.holds.length !== 1 || visible.has(n.id)) continue;
    const root = aliases.get(n.inputs[0]!) ?? n.inputs[0]!;
    if (opDef(node(root).op).template.kind === 'source' || updates.has(root)) continue;
    aliases.set(n.id, root);
  }
  return aliases;
}

/**
 * A join of pieces along the last axis (a tree of concats: attention's cotangents of Q, K and V,
 * joined for the projection's weight gradient) whose pieces can each be written into their block
 * of columns by the kernel that computes them: a batch_matmul that merges its heads, which then
 * writes rows the join's width apart. Each piece and each inner concat is read by its parent alone
 * and never by the host, so nothing reads a piece in a buffer of its own. The concats have no
 * kernel; the join is read where it was.
 */
function concatsInPlace({ graph, node, kernels, visible, private_ }: Fusion): Map<NodeId, ColumnBlock> {
  const blocks = new Map<NodeId, ColumnBlock>();
  const writesInPlace = (n: Node): boolean => n.op === 'batch_matmul' && n.attrs.mergeHeads === true && kernels.get(n.id)?.kind === 'node' && kernels.get(n.id)!.holds.length === 1;
  // Outermost joins first (they come later in the graph); a concat a taken join holds has no kernel left.
  for (const root of [...graph.nodes].reverse()) {
    if (root.op !== 'concat' || !kernels.has(root.id) || visible.has(root.id)) continue;
    const pieces: [NodeId, number][] = [];
    const inner: NodeId[] = [];
    const walk = (id: NodeId, start: number): boolean => {
      const n = node(id);
      if (id !== root.id && (!private_(id) || visible.has(id))) return false;
      if (n.op === 'concat' && (id === root.id || kernels.get(id)?.kind === 'node')) {
        inner.push(id);
        const width = node(n.inputs[0]!).shape.at(-1) as number;
        return walk(n.inputs[0]!, start) && walk(n.inputs[1]!, start + width);
      }
      if (!writesInPlace(n)) return false;
      pieces.push([id, start]);
      return true;
    };
    if (!walk(root.id, 0)) continue;
    for (const [piece, start] of pieces) blocks.set(piece, { into: root.id, start });
    for (const id of inner) kernels.delete(id);
  }
  return blocks;
}

/**
 * act(add(matmul(X, Wᵀ), b)) or add(matmul, b): the matmul's private result feeds the add. Where
 * others read the add too (gelu's derivative reads x), the GEMM still applies the activation, and
 * stores the add as a second output: no pass over the layer output either way. The kernel runs
 * where the activation is in the graph, so only if every other reader of the add comes later (a
 * loss from logits may read them before the prediction's sigmoid), and only one takes it.
 */
function gemmEpilogue(n: Node, { node, private_, readersOf, kernels, visible }: Fusion): Kernel | null {
  let add = n;
  let activation: OpName | undefined;
  let kept = false;
  let derivative: NodeId | undefined;
  if (n.inputs.length === 1 && hasSimd(n) && node(n.inputs[0]!).op === 'add') {
    const x = n.inputs[0]!;
    kept = !private_(x);
    const others = (readersOf.get(x) ?? []).filter((r) => r !== n.id);
    if (others.every((r) => r > n.id && kernels.get(r)?.kind !== 'gemm')) {
      add = node(x);
      activation = n.op;
      derivative = derivativeReader(n, others, node, visible);
    }
  }
  if (add.op !== 'add') return null;
  const mm = node(add.inputs[0]!);
  const bias = node(add.inputs[1]!);
  if (mm.op !== 'matmul' || !private_(mm.id) || mm.attrs.transA || !mm.attrs.transB) return null;
  const columns = mm.shape[mm.shape.length - 1];
  if (typeof columns !== 'number' || typeof node(mm.inputs[1]!).shape[1] !== 'number') return null;
  if (bias.shape.length !== 1 || bias.shape[0] !== columns || !sameShape(add.shape, mm.shape)) return null;
  // The derivative is stored four lanes at a time: a width that is a multiple of 4, else x is kept.
  if (derivative !== undefined && columns % 4 !== 0) derivative = undefined;
  if (derivative !== undefined) kept = false;
  const holds = activation ? [mm.id, add.id, n.id, ...(derivative === undefined ? [] : [derivative])] : [mm.id, add.id];
  return {
    kind: 'gemm',
    out: n.id,
    holds,
    matmul: mm.id,
    bias: bias.id,
    ...(activation ? { activation } : {}),
    ...(activation && kept ? { preActivation: add.id } : {}),
    ...(derivative === undefined ? {} : { derivative }),
  };
}

/**
 * The reader of an activation's input that is its derivative op, reading (input, activation), where
 * it is the only other reader and the activation has a form that stores the derivative too (gelu):
 * then the GEMM stores gelu′(x) instead of x, and the backward pass reads it without an exp. Four
 * lanes at a time, so only for a layer width that is a multiple of 4 (the caller checks).
 */
function derivativeReader(act: Node, others: readonly NodeId[], node: (id: NodeId) => Node, visible: ReadonlySet<NodeId>): NodeId | undefined {
  const template = opDef(act.op).template;
  const paired = template.kind === 'elementwise' ? template.withDerivative : undefined;
  if (paired === undefined || others.length !== 1 || visible.has(act.inputs[0]!)) return undefined;
  const r = node(others[0]!);
  const reads = r.inputs.length === 2 && r.inputs[0] === act.inputs[0] && r.inputs[1] === act.id;
  return r.op === paired.op && reads && !visible.has(r.id) && sameShape(r.shape, act.shape) ? r.id : undefined;
}

/**
 * add(x, add(matmul(h, Wᵀ), b)) in either order, where the inner add makes a GEMM kernel without
 * an activation and only this add reads it: the GEMM adds x in its epilogue. The kernel runs where
 * the outer add is in the graph, after x.
 */
function gemmResidual(n: Node, f: Fusion): Kernel | null {
  if (n.op !== 'add') return null;
  for (const k of [0, 1]) {
    const inner = f.node(n.inputs[k]!);
    const residual = f.node(n.inputs[1 - k]!);
    if (inner.op !== 'add' || inner.id === residual.id || !f.private_(inner.id) || !sameShape(inner.shape, n.shape) || !sameShape(residual.shape, n.shape)) continue;
    const base = gemmEpilogue(inner, f);
    if (base?.kind !== 'gemm' || base.activation !== undefined) continue;
    return { ...base, out: n.id, holds: [...base.holds, n.id], residual: residual.id };
  }
  return null;
}

/** The elementwise nodes of n's shape and SIMD kind that only n reads, recursively (n last). */
function elementwiseTree(n: Node, { node, private_, inGemm }: Fusion): NodeId[] {
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

/**
 * A column sum (sum over axis 0 of [rows, cols]) of an elementwise kernel's output joins that
 * kernel, which adds each row to the sums while the row is in registers. The fused loop walks
 * rows, so it needs a row of at least one f32x4: with fewer columns the flat loop over all
 * rows·cols stays SIMD, and a separate sum is cheaper.
 */
function columnSums({ graph, node, kernels }: Fusion): void {
  for (const n of graph.nodes) {
    if (n.op !== 'sum' || !kernels.has(n.id)) continue;
    const x = node(n.inputs[0]!);
    const producer = kernels.get(x.id);
    const cols = x.shape.at(-1);
    // The sum over every leading axis ([N, C] → [C], and [N, T, C] → [C], a bias of a layer
    // applied at every position), rows taken in order as sum_rows takes them.
    const leading = x.shape.length - 1;
    if (leading < 1 || n.attrs.axes.length !== leading || n.attrs.axes.some((a, k) => a !== k) || n.attrs.keepDims || typeof cols !== 'number' || cols < 4 || !producer) continue;
    if (producer.kind === 'gemm' || (producer.kind === 'node' && !isElementwise(x)) || (producer.kind === 'elementwise' && producer.columnSums !== undefined)) continue;
    // The loop takes the leading axes as one run of rows: each operand broadcast along all of them
    // (a bias row, a scalar) or along none (numpy's rules, shapes right-aligned).
    const uniform = (id: NodeId): boolean => {
      const broadcast = x.shape.slice(0, -1).map((_, a) => broadcastAlong(x.shape, node(id).shape, a));
      return broadcast.every((b) => b === broadcast[0]);
    };
    if (!kernelInputs(graph, producer).every((i) => node(i).op === 'constant' || uniform(i))) continue;
    kernels.set(x.id, { kind: 'elementwise', out: x.id, holds: producer.holds, columnSums: n.id });
    kernels.delete(n.id);
  }
}

/** An op whose template has FusedReaders takes them over when they are all it has, each a kernel of its own that reads the op's value first. */
function fusedReaders({ graph, node, kernels, visible, readersOf }: Fusion): void {
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
}

/** What a kernel does beyond holding its ops: a GEMM's epilogue, column sums, fused readers. */
function fusedNote(graph: Graph, k: Kernel): string {
  if (k.kind === 'gemm') return ` [epilogue: ${['bias', k.activation, k.residual === undefined ? undefined : `residual %${k.residual}`].filter(Boolean).join(' + ')}${k.preActivation === undefined ? '' : `; keeps %${k.preActivation}`}${k.derivative === undefined ? '' : `; writes %${k.derivative}`}]`;
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
      const block = program.blocks?.get(k.out);
      const extra = fusedNote(graph, k) + (block ? ` [into columns ${block.start}..${block.start + (out.shape.at(-1) as number) - 1} of %${block.into}]` : '');
      return `${k.kind.padEnd(11)} %${k.out} ${shapeToString(out.shape)} ← (${ins})  ${ops}${extra}${out.label ? `  # ${out.label}` : ''}`;
    })
    .join('\n');
}
