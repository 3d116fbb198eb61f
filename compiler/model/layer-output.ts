// Where each layer's output lives in a training graph, for the telemetry of both engines.
import { BATCH, type Graph, type Node, type NodeId } from '../ir/types.ts';
import { activationType } from './activations.ts';
import { modelDag } from './dag.ts';
import type { ModelSpec } from './spec.ts';

export interface LayerOutput {
  readonly name: string;
  /** The activation the layer applies ('linear' for normalisation and dropout layers). */
  readonly activation: string;
  readonly id: NodeId;
  readonly units: number;
}

/**
 * Each layer's (DAG node's) output: the last [N, units] node labelled with its name (after its activation;
 * running-statistic updates are [units] and skipped). Models with a training pass (batch norm,
 * dropout) label it `<layer>[train]`: those are the activations a training step really sees.
 * Layers that compute nothing (dropout at rate 0) are left out.
 */
export function layerOutputs(graph: Graph, spec: ModelSpec): LayerOutput[] {
  // A model input is labelled with its own name too; it is nobody's layer output.
  const inputs = new Set(graph.inputs.map((p) => p.id));
  const lastLabelled = (label: string): Node | undefined =>
    graph.nodes.filter((n) => n.label === label && n.shape.length === 2 && n.shape[0] === BATCH && !inputs.has(n.id)).at(-1);
  return modelDag(spec).nodes.flatMap(({ name, def, options }) => {
    // Layers before the first batch norm or dropout compute the same in both passes; common
    // subexpression elimination may have kept only the inference pass's nodes for them.
    const last = lastLabelled(`${name}[train]`) ?? lastLabelled(name);
    if (!last) return [];
    const activation = def.activation ? activationType(def.activation(options)) : 'linear';
    return [{ name, activation, id: last.id, units: last.shape[1] as number }];
  });
}
