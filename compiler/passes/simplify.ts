// Simplification of a training graph before fusion: small named rewrites, each with its reason,
// then dead-code elimination. The result computes the same values (test/fusion.test.ts).
import type { Graph, Node, NodeId } from '../ir/types.ts';
import { sameShape } from '../ir/types.ts';
import { eliminateDeadCode } from '../ir/dce.ts';

type Rule = (node: Node, nodes: readonly Node[], seen: Seen) => NodeId | Node | null;

interface Seen {
  /** relu node of each input x (relu(x)), to rewrite step(x). */
  readonly reluOf: Map<NodeId, NodeId>;
  /** Nodes that may become a bare constant: any but outputs and update values, which the host
   *  reads from a buffer (kernels read a constant as a literal or from static data, see emit.ts). */
  readonly mayBeConstant: ReadonlySet<NodeId>;
  /** How many nodes of the graph read each node (before the sweep). */
  readonly readers: ReadonlyMap<NodeId, number>;
}

const isConstant = (node: Node, value: number): boolean => node.op === 'constant' && node.attrs.value === value;

const rules: readonly { readonly name: string; readonly why: string; readonly apply: Rule }[] = [
  {
    name: 'mul-by-one',
    why: 'autodiff seeds the loss cotangent with 1; x·1 is x',
    apply(node, nodes, seen) {
      if (node.op !== 'mul') return null;
      const [a, b] = node.inputs.map((i) => nodes[i]!);
      const foldable = (x: Node): boolean => sameShape(x.shape, node.shape) && (x.op !== 'constant' || seen.mayBeConstant.has(node.id));
      if (isConstant(b!, 1) && foldable(a!)) return a!.id;
      if (isConstant(a!, 1) && foldable(b!)) return b!.id;
      return null;
    },
  },
  {
    name: 'fold-scalar-constants',
    why: 'the loss weight times the seed cotangent (0.5·1) is one constant, not a kernel',
    apply(node, nodes, seen) {
      if (node.op !== 'mul' || node.shape.length !== 0 || !seen.mayBeConstant.has(node.id)) return null;
      const a = nodes[node.inputs[0]!]!;
      const b = nodes[node.inputs[1]!]!;
      if (a.op !== 'constant' || b.op !== 'constant') return null;
      return { ...node, op: 'constant', inputs: [], attrs: { value: a.attrs.value * b.attrs.value } };
    },
  },
  {
    name: 'step-of-relu',
    why: 'step(x) = step(relu(x)): then x is read by relu alone and can stay inside the GEMM epilogue',
    apply(node, _nodes, seen) {
      if (node.op !== 'step') return null;
      const relu = seen.reluOf.get(node.inputs[0]!);
      return relu === undefined ? null : { ...node, inputs: [relu] };
    },
  },
  {
    name: 'scale-into-layer-norm-grad',
    why: "layer normalization's γ times the cotangent, read only by the normalization's gradient, is formed by that gradient's kernel a row at a time: no pass of its own",
    apply(node, nodes, seen) {
      if (node.op !== 'layer_norm_grad' || !isConstant(nodes[node.inputs[2]!]!, 1)) return null;
      const product = nodes[node.inputs[1]!]!;
      if (product.op !== 'mul' || seen.readers.get(product.id) !== 1 || !sameShape(product.shape, node.shape)) return null;
      const width = node.shape.at(-1);
      const row = (id: NodeId): boolean => sameShape(nodes[id]!.shape, [width!]);
      const full = (id: NodeId): boolean => sameShape(nodes[id]!.shape, node.shape);
      const [a, b] = product.inputs as [NodeId, NodeId];
      if (full(a) && row(b)) return { ...node, inputs: [node.inputs[0]!, a, b] };
      if (row(a) && full(b)) return { ...node, inputs: [node.inputs[0]!, b, a] };
      return null;
    },
  },
];

function nodesThatMayBeConstant(graph: Graph): Set<NodeId> {
  const ok = new Set(graph.nodes.map((n) => n.id));
  for (const p of graph.outputs) ok.delete(p.id);
  for (const u of graph.updates) ok.delete(u.value);
  return ok;
}

/** Applies the rules and common-subexpression elimination in one forward sweep, then DCE. */
export function simplify(graph: Graph): Graph {
  const replaced = new Map<NodeId, NodeId>();
  const byKey = new Map<string, NodeId>();
  const readers = new Map<NodeId, number>();
  for (const n of graph.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const seen: Seen = { reluOf: new Map(), mayBeConstant: nodesThatMayBeConstant(graph), readers };
  // Each output is a buffer of its own (two parameters' gradients may be the same zeros).
  const outputs = new Set(graph.outputs.map((p) => p.id));
  const nodes: Node[] = [];
  const at = (id: NodeId): NodeId => replaced.get(id) ?? id;
  for (const original of graph.nodes) {
    let node: Node = { ...original, inputs: original.inputs.map(at) };
    for (const rule of rules) {
      const result = rule.apply(node, nodes, seen);
      if (typeof result === 'number') {
        replaced.set(node.id, at(result));
        break;
      }
      if (result) node = result;
    }
    nodes.push(node);
    if (replaced.has(node.id)) continue;
    // CSE: the same op on the same inputs with the same attributes is the same value
    // (log_softmax is built once for the prediction and once for the loss).
    if (node.op !== 'input' && node.op !== 'param' && node.op !== 'state') {
      const key = `${node.op}(${node.inputs.join(',')})${JSON.stringify(node.attrs)}`;
      const first = byKey.get(key);
      if (first !== undefined && !(outputs.has(node.id) && outputs.has(first))) {
        replaced.set(node.id, first);
        continue;
      }
      byKey.set(key, node.id);
    }
    if (node.op === 'relu') seen.reluOf.set(node.inputs[0]!, node.id);
  }
  return eliminateDeadCode({
    nodes,
    inputs: graph.inputs,
    params: graph.params,
    ...(graph.state ? { state: graph.state } : {}),
    outputs: graph.outputs.map((p) => ({ ...p, id: at(p.id) })),
    updates: graph.updates.map((u) => ({ ...u, value: at(u.value) })),
  });
}

/** The rules, for documentation and `nabla inspect`. */
export const simplifyRules = rules.map(({ name, why }) => ({ name, why }));
