// The functional builder: Keras's functional API over symbolic tensors, serialised to the JSON
// graph form. `const x = input([4], { name: 'x' }); const h = dense(8).apply(x);` records a node;
// applying the same layer object twice shares it (one set of parameters, an `apply` node);
// `model({ inputs, outputs })` walks back from the outputs and returns the validated graph spec.
import type { LayerInput } from './builder.ts';
import { parseSpec, type GraphSpec, type GraphSpecInput } from './spec.ts';

type Source =
  | { readonly kind: 'input'; readonly name: string | undefined }
  | { readonly kind: 'layer'; readonly layer: LayerInput; readonly input: SymbolicTensor; readonly name: string | undefined }
  | { readonly kind: 'merge'; readonly type: 'add' | 'multiply' | 'concatenate'; readonly inputs: readonly SymbolicTensor[]; readonly name: string | undefined };

/**
 * A tensor of a model being built: a model input or a node's output. Its `shape` and `name` also
 * make it a Sequential model's `input`.
 */
export class SymbolicTensor {
  constructor(
    /** Features per row. */
    readonly width: number,
    readonly source: Source,
  ) {}

  get shape(): number[] {
    return [this.width];
  }

  get name(): string | undefined {
    return this.source.name;
  }
}

/** A layer that can be applied to a symbolic tensor: what dense(), activation(), ... return. */
export type Applicable = LayerInput & {
  /** Applies the layer; applying the same layer object again shares its parameters. */
  apply(input: SymbolicTensor, options?: { readonly name?: string }): SymbolicTensor;
};

function outputWidth(layer: LayerInput, width: number): number {
  return layer.type === 'dense' ? layer.units : width;
}

/**
 * Gives a layer description its `apply` method. Not enumerable: the layer stays plain data for
 * JSON and the Sequential form.
 */
export function applicable(layer: LayerInput): Applicable {
  Object.defineProperty(layer, 'apply', {
    enumerable: false,
    value: (input: SymbolicTensor, options: { readonly name?: string } = {}) =>
      new SymbolicTensor(outputWidth(layer, input.width), { kind: 'layer', layer, input, name: options.name }),
  });
  return layer as Applicable;
}

/** A model input of `shape` = [features]. */
export function symbolicInput(shape: readonly number[], name?: string): SymbolicTensor {
  return new SymbolicTensor(shape[0]!, { kind: 'input', name });
}

const merge =
  (type: 'add' | 'multiply' | 'concatenate') =>
  (inputs: readonly SymbolicTensor[], options: { readonly name?: string } = {}): SymbolicTensor => {
    const width = type === 'concatenate' ? inputs.reduce((a, t) => a + t.width, 0) : (inputs[0]?.width ?? 0);
    return new SymbolicTensor(width, { kind: 'merge', type, inputs: [...inputs], name: options.name });
  };

/** Elementwise sum of tensors of one width (a residual connection). */
export const add = merge('add');
/** Elementwise product of tensors of one width. */
export const multiply = merge('multiply');
/** Tensors joined along the feature axis. */
export const concatenate = merge('concatenate');

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
  // Explicit names first, so an automatic name never takes one the user wrote.
  const seen = new Set<SymbolicTensor>();
  const order: SymbolicTensor[] = [];
  const visit = (t: SymbolicTensor): void => {
    if (seen.has(t)) return;
    seen.add(t);
    if (t.source.kind === 'layer') visit(t.source.input);
    if (t.source.kind === 'merge') t.source.inputs.forEach(visit);
    order.push(t);
  };
  config.inputs.forEach(visit);
  config.outputs.forEach((o) => visit(o.tensor));
  for (const t of order) {
    const given = t.source.kind === 'layer' ? (t.source.name ?? t.source.layer.name) : t.source.name;
    if (given !== undefined) taken.add(given);
  }

  const owners = new Map<LayerInput, string>();
  const nodes: GraphSpecInput['nodes'] = [];
  const inputs: GraphSpecInput['inputs'] = [];
  for (const t of order) {
    const s = t.source;
    if (s.kind === 'input') {
      inputs.push({ name: claim(t, s.name, 'input'), shape: [t.width] });
    } else if (s.kind === 'merge') {
      nodes.push({ type: s.type, name: claim(t, s.name, s.type), inputs: s.inputs.map((i) => names.get(i)!) });
    } else {
      const owner = owners.get(s.layer);
      if (owner === undefined) {
        const name = claim(t, s.name ?? s.layer.name, s.layer.type);
        owners.set(s.layer, name);
        nodes.push({ ...s.layer, name, inputs: [names.get(s.input)!] } as GraphSpecInput['nodes'][number]);
      } else {
        nodes.push({ type: 'apply', name: claim(t, s.name, owner), layer: owner, inputs: [names.get(s.input)!] });
      }
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
