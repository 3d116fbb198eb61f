// A Keras model topology (TensorFlow.js's model.json `modelTopology`, Keras 2's or Keras 3's
// `model.to_json()`) as a nabla spec: a Sequential model as the Sequential form, a functional
// model as the graph form, each Keras layer through the `keras` mapping of the nabla layer that
// claims its class (compiler/layers/). Shared layers (a layer called more than once) become
// `apply` nodes. Anything nabla cannot express is refused, naming the layer and its class.
import { layerDef, layerDefs } from '../layers/registry.ts';
import { KerasFieldError, type KerasConfig } from '../layers/interop/types.ts';
import { arityOf, type AnyLayerDef } from '../layers/layer.ts';
import { InteropError } from './errors.ts';

/** A Keras layer as the topology lists it. */
interface KerasLayer {
  readonly class_name: string;
  readonly config: KerasConfig;
  readonly name?: string;
  readonly inbound_nodes?: readonly unknown[];
}

/** A nabla layer or node made from a Keras layer, with what the weights' conversion needs. */
export interface ImportedLayer {
  /** The Keras layer's name (weights are stored under it). */
  readonly kerasName: string;
  readonly className: string;
  /** The nabla layer or node name. */
  readonly name: string;
  readonly def: AnyLayerDef;
  readonly options: Record<string, unknown>;
  /** The Keras config the options were read from. */
  readonly config: KerasConfig;
}

export interface ImportedTopology {
  readonly name: string;
  readonly form: 'sequential' | 'graph';
  /** int32 where an embedding reads the input (Keras feeds it float token ids; nabla declares them). */
  readonly inputs: readonly { readonly name: string; readonly shape: readonly number[]; readonly dtype?: 'int32' }[];
  /** Sequential: the layers in order. Graph: the nodes, `apply` nodes included. */
  readonly nodes: readonly Record<string, unknown>[];
  /** The nodes whose values are the model's outputs (graph form; Sequential: the last layer). */
  readonly outputs: readonly string[];
  /** Every layer that owns parameters, once. */
  readonly layers: readonly ImportedLayer[];
}

const fail = (message: string): never => {
  throw new InteropError(message);
};

/** nabla names are identifiers; Keras's may hold other characters (`dense/1`, `dense-1`). */
const identifier = (name: string): string => {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
};

function classTable(): Map<string, AnyLayerDef> {
  const table = new Map<string, AnyLayerDef>();
  for (const def of layerDefs()) for (const className of Object.keys(def.keras?.fromKeras ?? {})) table.set(className, def);
  return table;
}

/** Unwraps the forms a topology comes in: tfjs's `{ class_name, config }`, Keras-converted `{ model_config }`. */
export function modelConfigOf(topology: unknown): { className: string; config: unknown } {
  let t = topology as Record<string, unknown> | null;
  if (t !== null && typeof t === 'object' && 'model_config' in t) t = t['model_config'] as Record<string, unknown>;
  if (t === null || typeof t !== 'object' || typeof t['class_name'] !== 'string') {
    return fail('not a Keras model topology: expected { "class_name": "Sequential" | "Functional" | "Model", "config": {...} }');
  }
  return { className: t['class_name'] as string, config: t['config'] };
}

/** The per-sample shape of a Keras batch shape: `[null, n]`, `[null, steps, n]` or `[null, h, w, c]`. */
function rowShape(batchShape: unknown, where: string): number[] {
  const dims = Array.isArray(batchShape) ? batchShape.slice(1) : [];
  if (dims.length < 1 || dims.length > 3 || !dims.every((d) => Number.isInteger(d) && (d as number) > 0)) {
    return fail(`${where}: input shape ${JSON.stringify(batchShape)} is not supported: nabla models take [null, n], [null, steps, n] or [null, h, w, c] with fixed sizes`);
  }
  return dims as number[];
}

const inputShapeOf = (config: KerasConfig): unknown => config['batch_input_shape'] ?? config['batch_shape'];

/** Converts one Keras layer's config to nabla options through its layer's mapping. */
function convertLayer(layer: KerasLayer, classes: Map<string, AnyLayerDef>, name: string): ImportedLayer {
  const kerasName = String(layer.config['name'] ?? layer.name ?? name);
  const def = classes.get(layer.class_name);
  if (def === undefined) {
    return fail(`layer '${kerasName}' (${layer.class_name}) is not supported; nabla imports ${[...classes.keys()].join(', ')}`);
  }
  try {
    const options = def.keras!.fromKeras[layer.class_name]!(layer.config);
    return { kerasName, className: layer.class_name, name, def, options, config: layer.config };
  } catch (err) {
    if (err instanceof KerasFieldError) return fail(`layer '${kerasName}' (${layer.class_name}): ${err.message}`);
    throw err;
  }
}

function layerList(config: unknown, className: string): KerasLayer[] {
  // Keras before 2.2 wrote a Sequential config as the bare list of layers.
  const layers = Array.isArray(config) ? config : (config as { layers?: unknown } | undefined)?.layers;
  if (!Array.isArray(layers)) return fail(`${className} model: config.layers is missing`);
  return layers.map((l, i) => {
    const layer = l as Partial<KerasLayer>;
    if (typeof layer.class_name !== 'string' || typeof layer.config !== 'object' || layer.config === null) return fail(`${className} model: layers[${i}] has no class_name and config`);
    if (layer.class_name === 'Sequential' || layer.class_name === 'Functional' || layer.class_name === 'Model') {
      return fail(`layer '${String(layer.config['name'])}' (${layer.class_name}): nested models are not supported; flatten the model first`);
    }
    return layer as KerasLayer;
  });
}

function sequentialTopology(name: string, config: unknown): ImportedTopology {
  const classes = classTable();
  const all = layerList(config, 'Sequential');
  let shape: number[] | undefined;
  let inputName = 'x';
  const body: KerasLayer[] = [];
  for (const layer of all) {
    const batchShape = inputShapeOf(layer.config);
    if (shape === undefined && batchShape !== undefined) shape = rowShape(batchShape, `layer '${String(layer.config['name'])}' (${layer.class_name})`);
    if (layer.class_name === 'InputLayer') inputName = identifier(String(layer.config['name'] ?? 'x'));
    else body.push(layer);
  }
  const built = (config as { build_input_shape?: unknown } | undefined)?.build_input_shape;
  if (shape === undefined && built !== undefined) shape = rowShape(built, 'Sequential model');
  if (shape === undefined) return fail('Sequential model: no input shape (give the first layer an inputShape, or build the model before saving it)');
  if (body.length === 0) return fail('Sequential model: no layers');
  const used = new Set<string>([inputName]);
  const layers = body.map((layer, i) => {
    const name = unique(identifier(String(layer.config['name'] ?? `layer_${i}`)), used);
    return convertLayer(layer, classes, name);
  });
  for (const l of layers) if (arityOf(l.def).min > 1) fail(`layer '${l.kerasName}' (${l.className}) merges several tensors: a Sequential model cannot hold it`);
  return {
    name,
    form: 'sequential',
    inputs: [{ name: inputName, shape, ...(layers[0]!.def.tokenIds ? { dtype: 'int32' as const } : {}) }],
    nodes: layers.map((l) => ({ type: l.def.type, name: l.name, ...l.options })),
    outputs: [layers.at(-1)!.name],
    layers: layers.filter((l) => (l.def.keras?.weights(l.options).length ?? 0) > 0),
  };
}

function unique(name: string, used: Set<string>): string {
  let candidate = name;
  for (let k = 1; used.has(candidate); k++) candidate = `${name}_${k}`;
  used.add(candidate);
  return candidate;
}

/** A reference `[layer, nodeIndex, tensorIndex]` in Keras 2 / tfjs form or Keras 3's keras_history. */
function referencesOf(call: unknown, where: string): [string, number, number][] {
  const refs: [string, number, number][] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      if (typeof v[0] === 'string' && typeof v[1] === 'number') refs.push([v[0], v[1], Number(v[2] ?? 0)]);
      else v.forEach(visit);
    } else if (v !== null && typeof v === 'object') {
      const history = (v as { config?: { keras_history?: unknown } }).config?.keras_history;
      if (Array.isArray(history)) refs.push([String(history[0]), Number(history[1]), Number(history[2] ?? 0)]);
      else if ('args' in v) visit((v as { args: unknown }).args);
    }
  };
  visit(call);
  if (refs.length === 0) fail(`${where}: cannot read its inbound node ${JSON.stringify(call)}`);
  return refs;
}

function graphTopology(name: string, config: unknown): ImportedTopology {
  const classes = classTable();
  const c = config as { layers?: unknown; input_layers?: unknown; output_layers?: unknown };
  const all = layerList(config, 'Functional');
  const used = new Set<string>();
  /** (Keras layer name, node index) → nabla node or input name. */
  const produced = new Map<string, string>();
  const inputs: { name: string; shape: number[] }[] = [];
  const nodes: Record<string, unknown>[] = [];
  const layers: ImportedLayer[] = [];
  for (const layer of all) {
    const kerasName = String(layer.name ?? layer.config['name']);
    const where = `layer '${kerasName}' (${layer.class_name})`;
    if (layer.class_name === 'InputLayer') {
      const input = { name: unique(identifier(kerasName), used), shape: rowShape(inputShapeOf(layer.config), where) };
      inputs.push(input);
      produced.set(`${kerasName}#0`, input.name);
      continue;
    }
    const base = unique(identifier(kerasName), used);
    const imported = convertLayer(layer, classes, base);
    (layer.inbound_nodes ?? []).forEach((call, k) => {
      const reads = referencesOf(call, where).map(([from, index, tensor]) => {
        if (tensor !== 0) fail(`${where} reads output ${tensor} of '${from}': nabla layers have one output`);
        return produced.get(`${from}#${index}`) ?? fail(`${where} reads '${from}' (call ${index}), which comes later or does not exist: the layers must be listed in order`);
      });
      const nodeName = k === 0 ? base : unique(`${base}_${k}`, used);
      if (k > 0 && imported.def.shareable === false) fail(`${where} is called ${layer.inbound_nodes!.length} times; nabla cannot share a ${imported.def.type} layer`);
      nodes.push(k === 0 ? { type: imported.def.type, name: nodeName, ...imported.options, inputs: reads } : { type: 'apply', name: nodeName, layer: base, inputs: reads });
      produced.set(`${kerasName}#${k}`, nodeName);
    });
    if ((layer.inbound_nodes ?? []).length === 0) fail(`${where} is not connected to the model`);
    if ((imported.def.keras?.weights(imported.options).length ?? 0) > 0) layers.push(imported);
  }
  const endpoints = (v: unknown, what: string): string[] => {
    const list = Array.isArray(v) && typeof v[0] === 'string' ? [v] : (v as unknown[]);
    if (!Array.isArray(list)) return fail(`Functional model: config.${what} is missing`);
    return list.map((ref) => {
      const [layer, index] = ref as [string, number];
      return produced.get(`${layer}#${index}`) ?? fail(`Functional model: ${what} names '${layer}' (call ${index}), which does not exist`);
    });
  };
  const inputOrder = endpoints(c.input_layers, 'input_layers');
  const ordered = inputOrder.map((n) => inputs.find((i) => i.name === n) ?? fail(`Functional model: input '${n}' is not an InputLayer`));
  // An `apply` node shares a layer of its own type's node: the shared node reads ids too.
  const readsIds = (input: string): boolean => nodes.some((n) => n['type'] !== 'apply' && (n['inputs'] as string[]).includes(input) && layerDef(n['type'] as string).tokenIds !== undefined);
  const typed = ordered.map((i) => (readsIds(i.name) ? { ...i, dtype: 'int32' as const } : i));
  return { name, form: 'graph', inputs: typed, nodes, outputs: endpoints(c.output_layers, 'output_layers'), layers };
}

/** The topology as a nabla model structure (without loss and optimizer). */
export function importTopology(topology: unknown): ImportedTopology {
  const { className, config } = modelConfigOf(topology);
  const rawName = (config as { name?: unknown } | undefined)?.name;
  const name = typeof rawName === 'string' ? identifier(rawName) : 'model';
  switch (className) {
    case 'Sequential':
      return sequentialTopology(name, config);
    case 'Functional':
    case 'Model':
      return graphTopology(name, config);
    default:
      return fail(`model class '${className}' is not supported; nabla imports Sequential and functional (Functional, Model) models`);
  }
}
