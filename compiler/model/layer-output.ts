// Where each layer's output lives in a training graph, for the telemetry of both engines.
import { BATCH, type Graph, type NodeId } from '../ir/types.ts';
import { activationType } from './activations.ts';
import type { ModelSpec } from './spec.ts';

export interface LayerOutput {
  readonly name: string;
  /** The activation the layer applies ('linear' for normalisation and dropout layers). */
  readonly activation: string;
  readonly id: NodeId;
  readonly units: number;
}

/** Graph output port that pins a layer's activations in a telemetry build. */
export const activationPort = (layer: string): string => `activation:${layer}`;

/**
 * Each layer's output: the last [N, units] node labelled with its name (after its activation;
 * running-statistic updates are [units] and skipped). Models with a training pass (batch norm,
 * dropout) label it `<layer>[train]`: those are the activations a training step really sees.
 * Layers that compute nothing (dropout at rate 0) are left out.
 */
export function layerOutputs(graph: Graph, spec: ModelSpec): LayerOutput[] {
  const training = graph.nodes.some((n) => n.label?.endsWith('[train]'));
  return spec.layers.flatMap((layer) => {
    const label = training ? `${layer.name}[train]` : layer.name;
    const nodes = graph.nodes.filter((n) => n.label === label && n.shape.length === 2 && n.shape[0] === BATCH && n.op !== 'input');
    const last = nodes[nodes.length - 1];
    if (!last) return [];
    const activation = 'activation' in layer ? activationType(layer.activation) : 'linear';
    return [{ name: layer.name, activation, id: last.id, units: last.shape[1] as number }];
  });
}
