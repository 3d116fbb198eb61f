// Simplification of a training graph before fusion: small named rewrites, each with its reason,
// then dead-code elimination. The result computes the same values (test/fusion.test.ts).
import type { Graph, Node, NodeId } from '../ir/types.ts';
import { sameShape } from '../ir/types.ts';
import { eliminateDeadCode } from './dce.ts';

type Rule = (node: Node, nodes: readonly Node[], seen: Seen) => NodeId | Node | null;

interface Seen {
  /** relu node of each input x (relu(x)), to rewrite step(x). */
  readonly reluOf: Map<NodeId, NodeId>;
}

const isConstant = (node: Node, value: number): boolean => node.op === 'constant' && node.attrs['value'] === value;

const rules: readonly { readonly name: string; readonly why: string; readonly apply: Rule }[] = [
  {
    name: 'mul-by-one',
    why: 'autodiff seeds the loss cotangent with 1; x·1 is x',
    apply(node, nodes) {
      if (node.op !== 'mul') return null;
      const [a, b] = node.inputs.map((i) => nodes[i]!);
      // Never fold to a bare constant: constants have no buffer, and a kernel (reshape, sum) may read it.
      if (isConstant(b!, 1) && sameShape(a!.shape, node.shape) && a!.op !== 'constant') return a!.id;
      if (isConstant(a!, 1) && sameShape(b!.shape, node.shape) && b!.op !== 'constant') return b!.id;
      return null;
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
];

/** Applies the rules and common-subexpression elimination in one forward sweep, then DCE. */
export function simplify(graph: Graph): Graph {
  const replaced = new Map<NodeId, NodeId>();
  const byKey = new Map<string, NodeId>();
  const seen: Seen = { reluOf: new Map() };
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
      if (first !== undefined) {
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
