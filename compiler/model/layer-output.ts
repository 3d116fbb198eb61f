// Where a layer's output lives in the graph, for the telemetry of both engines.
import type { Graph, NodeId } from '../ir/types.ts';

/** A layer's output: the last node the forward pass labels with its name (after its activation). */
export function layerOutput(graph: Graph, layer: string): NodeId {
  const nodes = graph.nodes.filter((n) => n.label === layer && n.op !== 'param' && n.op !== 'constant');
  if (!nodes.length) throw new Error(`internal: no output node for layer '${layer}'`);
  return nodes[nodes.length - 1]!.id;
}
