// Dead-code elimination: keeps the nodes that an output or update needs (and every input and
// parameter, which are the graph's interface), renumbered densely in the same order. An operation
// on the graph value: the training graph drops the forward nodes its loss does not need, and the
// passes clean up after their rewrites.
import { ancestors, type Graph, type Node, type NodeId } from './types.ts';

export function eliminateDeadCode(graph: Graph): Graph {
  const roots = [...graph.outputs.map((p) => p.id), ...graph.updates.map((u) => u.value), ...graph.inputs.map((p) => p.id), ...graph.params.map((p) => p.id), ...(graph.state ?? []).map((p) => p.id)];
  const live = ancestors(graph.nodes, roots);
  const renumber = new Map<NodeId, NodeId>();
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    if (!live.has(node.id)) continue;
    renumber.set(node.id, nodes.length);
    nodes.push({ ...node, id: nodes.length, inputs: node.inputs.map((i) => renumber.get(i)!) });
  }
  const map = (id: NodeId): NodeId => renumber.get(id)!;
  return {
    nodes,
    inputs: graph.inputs.map((p) => ({ ...p, id: map(p.id) })),
    params: graph.params.map((p) => ({ ...p, id: map(p.id) })),
    outputs: graph.outputs.map((p) => ({ ...p, id: map(p.id) })),
    ...(graph.state ? { state: graph.state.map((p) => ({ ...p, id: map(p.id) })) } : {}),
    updates: graph.updates.map((u) => ({ ...u, value: map(u.value) })),
  };
}
