// A tree of elementwise nodes as one elementwise template: the expression of its root over the
// tree's leaves, each op's f32x4 (or scalar) template applied to its operands' expressions.
import type { Graph, NodeId } from '../ir/types.ts';
import { opDef, type OpName } from '../ops/registry.ts';
import type { Template } from '../ops/op.ts';

export type ElementwiseTemplate = Extract<Template<unknown>, { kind: 'elementwise' }>;

/** The template of an op that fusion put in an elementwise tree or a GEMM epilogue. */
export function elementwiseTemplate(op: OpName): ElementwiseTemplate {
  const template = opDef(op).template;
  if (template.kind !== 'elementwise') throw new Error(`internal: ${op} fused as elementwise, but its template is ${template.kind}`);
  return template;
}

/** The elementwise expression of `root` over the `held` nodes, as one template over `leaves`. */
export function expressionTemplate(graph: Graph, held: ReadonlySet<NodeId>, root: NodeId, leaves: readonly NodeId[]): ElementwiseTemplate {
  const build = (mode: 'scalar' | 'simd', operands: readonly string[]): string => {
    const expr = (id: NodeId): string => {
      const t = elementwiseTemplate(graph.nodes[id]!.op);
      const args = graph.nodes[id]!.inputs.map((i) => (held.has(i) ? `(${expr(i)})` : operands[leaves.indexOf(i)]!));
      return mode === 'scalar' ? t.scalar(...args) : t.simd!(...args);
    };
    return expr(root);
  };
  const simd = [...held].every((id) => elementwiseTemplate(graph.nodes[id]!.op).simd);
  return simd ? { kind: 'elementwise', scalar: (...o) => build('scalar', o), simd: (...o) => build('simd', o) } : { kind: 'elementwise', scalar: (...o) => build('scalar', o) };
}
