// The manifest's list of host-settable hyperparameters, read off the training graph: the state
// tensors the optimizer made with OptimizerState.hyperparameter (HYPERPARAMETER names them).
import type { HyperparameterSpec } from '../../runtime/manifest.ts';
import { HYPERPARAMETER } from '../../runtime/ports.ts';
import type { Graph } from '../ir/types.ts';
import { stateInitial } from '../ops/sources.ts';

export function hyperparametersOf(graph: Graph): HyperparameterSpec[] {
  const byState = new Map<string, string>(Object.entries(HYPERPARAMETER).map(([name, state]) => [state, name]));
  return (graph.state ?? []).flatMap((s) => {
    const name = byState.get(s.name);
    return name === undefined ? [] : [{ name, state: s.name, initial: stateInitial(graph.nodes[s.id]!) }];
  });
}
