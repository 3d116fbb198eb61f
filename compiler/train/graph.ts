// The training graph: forward, loss, the symbolic backward pass and the optimizer update, all
// one ordinary IR graph that can be printed, interpreted and compiled. This stage composes the
// two before it: autodiff derives the gradients, the optimizer turns them into updates. Optimizer
// state (momenta, moments, the step counter) is graph state, updated like the parameters.
import { grad } from '../autodiff/grad.ts';
import { GraphBuilder } from '../ir/builder.ts';
import { eliminateDeadCode } from '../ir/dce.ts';
import { findPort, type Graph, type Port } from '../ir/types.ts';
import { outputId, type LoweredModel } from '../model/lower.ts';
import { optimizerStep } from '../optim/optimizer.ts';
import type { OptimizerSpec } from '../optim/spec.ts';
import { OptimizerState } from '../optim/state.ts';
import { gradName, LOSS, TRAIN_LOSS } from '../../runtime/ports.ts';

/**
 * `trainable`: the parameters the optimizer trains (all, by default); the others (running
 * statistics) are updated by the forward graph's own updates. The loss differentiated is the
 * training pass's `train_loss` where the model has one, else `loss`.
 */
export function buildTrainingGraph(forward: Graph, optimizer: OptimizerSpec, trainable: (name: string) => boolean = () => true): Graph {
  const b = new GraphBuilder(forward.nodes);
  const loss = findPort(forward.outputs, TRAIN_LOSS)?.id ?? outputId(forward, LOSS);
  const trained = forward.params.filter((p) => trainable(p.name));
  const grads = grad(
    b,
    loss,
    trained.map((p) => p.id),
  );
  const gradPorts: Port[] = trained.map((p) => ({ name: gradName(p.name), id: grads.get(p.id)! }));
  const state = new OptimizerState(b, forward.state ?? []);
  const updates = [...forward.updates, ...optimizerStep(b, trained, grads, optimizer, state)];
  return eliminateDeadCode({
    nodes: b.nodes,
    inputs: forward.inputs,
    params: forward.params,
    ...(forward.state || state.ports.length > 0 ? { state: [...(forward.state ?? []), ...state.ports] } : {}),
    outputs: [...forward.outputs, ...gradPorts],
    updates: [...updates, ...state.updates],
  });
}

/** The training graph of a lowered model: running statistics are not trained. */
export function trainingGraphOf(model: LoweredModel): Graph {
  const frozen = new Set(model.params.filter((p) => !p.trainable).map((p) => p.name));
  return buildTrainingGraph(model.graph, model.spec.optimizer, (name) => !frozen.has(name));
}
