// The training graph: forward, loss, the symbolic backward pass and the optimizer update, all
// one ordinary IR graph that can be printed, interpreted and compiled. Optimizer state (momenta,
// moments, the step counter) is graph state, updated by the same mechanism as the parameters.
import { GraphBuilder } from '../ir/builder.ts';
import type { Graph, Port } from '../ir/types.ts';
import { outputId } from '../model/lower.ts';
import { optimizerStep } from '../optim/optimizer.ts';
import type { OptimizerSpec } from '../optim/spec.ts';
import { OptimizerState } from '../optim/state.ts';
import { eliminateDeadCode } from '../passes/dce.ts';
import { grad } from './grad.ts';

export const gradName = (param: string): string => `grad:${param}`;

export function buildTrainingGraph(forward: Graph, optimizer: OptimizerSpec): Graph {
  const b = new GraphBuilder(forward.nodes);
  const loss = outputId(forward, 'loss');
  const grads = grad(
    b,
    loss,
    forward.params.map((p) => p.id),
  );
  const gradPorts: Port[] = forward.params.map((p) => ({ name: gradName(p.name), id: grads.get(p.id)! }));
  const state = new OptimizerState(b);
  const updates = optimizerStep(b, forward.params, grads, optimizer, state);
  return eliminateDeadCode({
    nodes: b.nodes,
    inputs: forward.inputs,
    params: forward.params,
    ...(state.ports.length > 0 ? { state: state.ports } : {}),
    outputs: [...forward.outputs, ...gradPorts],
    updates: [...updates, ...state.updates],
  });
}
