// The training graph: forward, loss, the symbolic backward pass and the optimizer update, all
// one ordinary IR graph that can be printed, interpreted and compiled.
import { GraphBuilder } from '../ir/builder.ts';
import type { Graph, Port } from '../ir/types.ts';
import { outputId } from '../model/lower.ts';
import { sgdUpdate, type SgdConfig } from '../optim/sgd.ts';
import { eliminateDeadCode } from '../passes/dce.ts';
import { grad } from './grad.ts';

export const gradName = (param: string): string => `grad:${param}`;

export function buildTrainingGraph(forward: Graph, optimizer: SgdConfig): Graph {
  const b = new GraphBuilder(forward.nodes);
  const loss = outputId(forward, 'loss');
  const grads = grad(
    b,
    loss,
    forward.params.map((p) => p.id),
  );
  const gradPorts: Port[] = forward.params.map((p) => ({ name: gradName(p.name), id: grads.get(p.id)! }));
  const updates = forward.params.map((p) => ({
    param: p.name,
    value: b.withLabel(`update(${p.name})`, () => sgdUpdate(b, p.id, grads.get(p.id)!, optimizer)),
  }));
  return eliminateDeadCode({
    nodes: b.nodes,
    inputs: forward.inputs,
    params: forward.params,
    outputs: [...forward.outputs, ...gradPorts],
    updates,
  });
}
