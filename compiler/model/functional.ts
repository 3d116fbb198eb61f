// The functional builder: Keras's functional API over symbolic tensors, serialised to the JSON
// graph form. `const x = input([4], { name: 'x' }); const h = dense(8).apply(x);` records a node;
// applying the same layer object twice shares it (one set of parameters, an `apply` node);
// `model({ inputs, outputs })` walks back from the outputs and returns the validated graph spec.
import { SymbolicTensor, type LayerData } from '../layers/symbolic.ts';
import { parseSpec, type GraphSpec, type GraphSpecInput } from './spec.ts';

export { SymbolicTensor, type Applicable } from '../layers/symbolic.ts';

/** A model input of per-sample `shape`: [features], [steps, features] or [h, w, c]. */
export function symbolicInput(shape: readonly number[], name?: string, dtype?: 'float32' | 'int32'): SymbolicTensor {
  return new SymbolicTensor([...shape], { kind: 'input', name, ...(dtype ? { dtype } : {}) });
}

export interface ModelOutput {
  readonly tensor: SymbolicTensor;
  readonly loss: GraphSpecInput['outputs'][number]['loss'];
  /** Default 1: the model's loss is Σ lossWeight · loss. */
  readonly lossWeight?: number;
  /** Default: the node's name. */
  readonly name?: string;
}

export interface ModelConfig {
  readonly name?: string;
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly ModelOutput[];
  readonly optimizer?: GraphSpecInput['optimizer'];
  readonly batchSize?: number;
  readonly seed?: number;
}

/** Every tensor the outputs depend on (and the inputs), each after what it reads; iterative, so depth is unbounded. */
function tensorsInOrder(roots: readonly SymbolicTensor[]): SymbolicTensor[] {
  const seen = new Set<SymbolicTensor>();
  const order: SymbolicTensor[] = [];
  for (const root of roots) {
    if (seen.has(root)) continue;
    seen.add(root);
    const stack: { t: SymbolicTensor; next: number }[] = [{ t: root, next: 0 }];
    while (stack.length) {
      const top = stack.at(-1)!;
      const reads = top.t.source.kind === 'layer' ? top.t.source.inputs : [];
      if (top.next === reads.length) {
        order.push(top.t);
        stack.pop();
        continue;
      }
      const t = reads[top.next++]!;
      if (!seen.has(t)) {
        seen.add(t);
        stack.push({ t, next: 0 });
      }
    }
  }
  return order;
}

/** The graph-form spec of a functional model, validated (throws SpecError naming node and field). */
export function model(config: ModelConfig): GraphSpec {
  const names = new Map<SymbolicTensor, string>();
  const taken = new Set<string>();
  const counts = new Map<string, number>();
  /** The given name, or Keras-style `dense`, `dense_1`, ... skipping names already used. */
  const claim = (t: SymbolicTensor, given: string | undefined, base: string): string => {
    let name = given;
    while (name === undefined || (given === undefined && taken.has(name))) {
      const k = counts.get(base) ?? 0;
      counts.set(base, k + 1);
      name = k === 0 ? base : `${base}_${k}`;
    }
    taken.add(name);
    names.set(t, name);
    return name;
  };
  const order = tensorsInOrder([...config.inputs, ...config.outputs.map((o) => o.tensor)]);
  // Explicit names first, so an automatic name never takes one the user wrote.
  for (const t of order) {
    const given = t.source.kind === 'layer' ? (t.source.name ?? t.source.layer.name) : t.source.name;
    if (given !== undefined) taken.add(given);
  }

  const owners = new Map<LayerData, string>();
  const nodes: GraphSpecInput['nodes'][number][] = [];
  const inputs: GraphSpecInput['inputs'][number][] = [];
  for (const t of order) {
    const s = t.source;
    if (s.kind === 'input') {
      inputs.push({ name: claim(t, s.name, 'input'), shape: [...t.shape], ...(s.dtype ? { dtype: s.dtype } : {}) });
      continue;
    }
    const reads = s.inputs.map((i) => names.get(i)!);
    const owner = owners.get(s.layer);
    if (owner === undefined) {
      const name = claim(t, s.name ?? s.layer.name, s.layer.type);
      owners.set(s.layer, name);
      nodes.push({ ...s.layer, name, inputs: reads });
    } else {
      nodes.push({ type: 'apply', name: claim(t, s.name, owner), layer: owner, inputs: reads });
    }
  }
  const declared = new Set(config.inputs);
  const spec: GraphSpecInput = {
    ...(config.name !== undefined ? { name: config.name } : {}),
    // The inputs in the order given; an input reached but not declared is listed too, and reported unused or kept.
    inputs: [...config.inputs.map((t) => inputs.find((i) => i.name === names.get(t))!), ...inputs.filter((i) => ![...declared].some((t) => names.get(t) === i.name))],
    nodes,
    outputs: config.outputs.map((o) => ({
      node: names.get(o.tensor)!,
      loss: o.loss,
      ...(o.lossWeight !== undefined ? { lossWeight: o.lossWeight } : {}),
      ...(o.name !== undefined ? { name: o.name } : {}),
    })),
    ...(config.optimizer !== undefined ? { optimizer: config.optimizer } : {}),
    ...(config.batchSize !== undefined ? { batchSize: config.batchSize } : {}),
    ...(config.seed !== undefined ? { seed: config.seed } : {}),
  };
  return parseSpec(spec) as GraphSpec;
}
