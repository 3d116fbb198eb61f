// Builds graphs node by node. Every node gets its shape from its op's rule at once, so a shape
// mistake is reported where it is made, naming the layer being built.
import { opDef, type AnyAttrs, type OpAttrs, type OpName } from '../ops/registry.ts';
import { ShapeError } from '../ops/op.ts';
import type { DType, Node, NodeId, Shape } from './types.ts';
import { shapeToString } from './types.ts';

type AttrArgs<K extends OpName> = Record<string, never> extends OpAttrs<K> ? [attrs?: OpAttrs<K>] : [attrs: OpAttrs<K>];

export class GraphBuilder {
  private readonly list: Node[];
  private readonly constants = new Map<number, NodeId>();
  private label: string | undefined;

  constructor(base: readonly Node[] = []) {
    this.list = [...base];
    for (const node of base) {
      if (node.op === 'constant') this.constants.set(node.attrs.value, node.id);
    }
  }

  get nodes(): readonly Node[] {
    return this.list;
  }

  node(id: NodeId): Node {
    const node = this.list[id];
    if (!node) throw new Error(`internal: no node %${id}`);
    return node;
  }

  /** Runs fn with `label` attached to every node it creates (a layer's name, `grad(hidden)`). */
  withLabel<T>(label: string, fn: () => T): T {
    const saved = this.label;
    this.label = label;
    try {
      return fn();
    } finally {
      this.label = saved;
    }
  }

  /** A node of `op`; its attributes are the op's own (optional where all of them are). */
  op<K extends OpName>(op: K, inputs: readonly NodeId[], ...[attrs]: AttrArgs<K>): NodeId;
  op(op: OpName, inputs: readonly NodeId[], resolvedAttrs: AnyAttrs = {}): NodeId {
    const def = opDef(op);
    if (inputs.length !== def.arity) throw new Error(`internal: ${op} takes ${def.arity} inputs, given ${inputs.length}`);
    const typed = inputs.map((id) => this.node(id));
    let result: { shape: Shape; dtype: DType };
    try {
      result = def.shape(typed, resolvedAttrs);
    } catch (err) {
      if (err instanceof ShapeError) {
        const where = this.label ? `layer '${this.label}'` : 'graph';
        throw new ShapeError(`${where}: ${err.message} (inputs ${typed.map((t) => shapeToString(t.shape)).join(', ')})`);
      }
      throw err;
    }
    // The overload above gave `op` its own attributes: a Node, though TypeScript cannot tie the two.
    const node = {
      id: this.list.length,
      op,
      inputs: [...inputs],
      attrs: resolvedAttrs,
      shape: result.shape,
      dtype: result.dtype,
      ...(this.label !== undefined ? { label: this.label } : {}),
    } as Node;
    this.list.push(node);
    return node.id;
  }

  constant(value: number): NodeId {
    const existing = this.constants.get(value);
    if (existing !== undefined) return existing;
    const id = this.op('constant', [], { value });
    this.constants.set(value, id);
    return id;
  }

  input(name: string, shape: Shape, dtype: DType = 'f32'): NodeId {
    return this.op('input', [], { name, shape, dtype });
  }

  param(name: string, shape: Shape): NodeId {
    return this.op('param', [], { name, shape, dtype: 'f32' });
  }
}
