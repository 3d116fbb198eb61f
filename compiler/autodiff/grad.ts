// Reverse-mode differentiation on the IR. The walker alone deals with fan-out (cotangents of a
// node used twice are added), broadcasting (a cotangent is summed back to its operand's shape)
// and inputs without gradients (labels). Each op only states its local rule, in ops/.
import { GraphBuilder } from '../ir/builder.ts';
import { opDef } from '../ops/registry.ts';
import { sumCotangents } from './cotangent_sum.ts';
import { sameShape, shapeToString, type NodeId, type Shape } from '../ir/types.ts';

/** Sums a cotangent back down to the shape of the operand it belongs to. */
export function unbroadcast(b: GraphBuilder, g: NodeId, target: Shape): NodeId {
  let shape = b.node(g).shape;
  if (sameShape(shape, target)) return g;
  const lead = shape.length - target.length;
  if (lead > 0) {
    g = b.op('sum', [g], { axes: Array.from({ length: lead }, (_, i) => i) });
    shape = b.node(g).shape;
  }
  const axes = target.flatMap((d, i) => (d === 1 && shape[i] !== 1 ? [i] : []));
  if (axes.length) g = b.op('sum', [g], { axes, keepDims: true });
  if (!sameShape(b.node(g).shape, target)) {
    throw new Error(`internal: cannot un-broadcast ${shapeToString(b.node(g).shape)} to ${shapeToString(target)}`);
  }
  return g;
}

/** Nodes whose value depends on any of `sources`. */
function dependents(b: GraphBuilder, sources: readonly NodeId[]): Set<NodeId> {
  const found = new Set<NodeId>(sources);
  for (const node of b.nodes) {
    if (node.inputs.some((i) => found.has(i))) found.add(node.id);
  }
  return found;
}

/**
 * Appends to `b` the backward graph of the scalar `loss` and returns, for each node of `wrt`,
 * the node holding d loss / d that node (zeros where the loss does not depend on it).
 */
export function grad(b: GraphBuilder, loss: NodeId, wrt: readonly NodeId[]): Map<NodeId, NodeId> {
  if (b.node(loss).shape.length !== 0) throw new Error(`internal: grad of non-scalar %${loss}`);
  const needed = dependents(b, wrt);
  const contributions = new Map<NodeId, NodeId[]>([[loss, [b.constant(1)]]]);
  const result = new Map<NodeId, NodeId>();
  const wanted = new Set(wrt);

  for (let id = loss; id >= 0; id--) {
    const parts = contributions.get(id);
    if (!parts || !needed.has(id)) continue;
    const node = b.node(id);
    const label = `grad(${node.label ?? node.op})`;
    const g = b.withLabel(label, () => sumCotangents(b, parts));
    if (wanted.has(id)) result.set(id, g);
    if (node.inputs.length === 0) continue;
    const def = opDef(node.op);
    b.withLabel(label, () => {
      const cotangents = def.vjp(b, { inputs: node.inputs, out: id, g, attrs: node.attrs });
      node.inputs.forEach((input, k) => {
        const ct = cotangents[k];
        if (ct === null || ct === undefined || !needed.has(input)) return;
        const list = contributions.get(input) ?? [];
        list.push(unbroadcast(b, ct, b.node(input).shape));
        contributions.set(input, list);
      });
    });
  }

  for (const id of wrt) {
    if (!result.has(id)) {
      const zero = b.op('broadcast', [b.constant(0)], { shape: b.node(id).shape });
      result.set(id, zero);
    }
  }
  return result;
}
