// The executable specification: evaluates any IR graph in float64, node by node, with each
// op's reference semantics from ops/.
import type { Tensor64 } from '../ir/tensor.ts';
import { ancestors, type Graph, type NodeId } from '../ir/types.ts';
import { opDef } from '../ops/registry.ts';

/** Values of `wanted` (and everything they need). `bind` supplies inputs and parameters. */
export function evaluateGraph(graph: Graph, wanted: readonly NodeId[], bind: (name: string, op: 'input' | 'param' | 'state') => Tensor64, n: number): Map<NodeId, Tensor64> {
  const needed = ancestors(graph.nodes, wanted);
  const values = new Map<NodeId, Tensor64>();
  for (const node of graph.nodes) {
    if (!needed.has(node.id)) continue;
    if (node.op === 'input' || node.op === 'param' || node.op === 'state') {
      values.set(node.id, bind(node.attrs.name, node.op));
      continue;
    }
    const inputs = node.inputs.map((i) => values.get(i)!);
    values.set(node.id, opDef(node.op).eval(inputs, node.attrs, { n, node }));
  }
  return values;
}
