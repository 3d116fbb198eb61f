// The JSON model spec: the one format the TypeScript builder writes and the CLI reads.
// Validated with zod; every complaint names the field by its path (`layers[1].units`). The layer
// and node schemas are derived from the layer table (compiler/layers/registry.ts): each layer type
// contributes its own options.
import { z } from 'zod';
import { Loss } from './losses.ts';
import { Optimizer } from '../optim/spec.ts';
export { Optimizer, optimizerNames, type OptimizerInput, type OptimizerSpec } from '../optim/spec.ts';
import { SpecError } from './spec_error.ts';
import { modelDag } from './dag.ts';
import { identifier, inputDtype, inputShape, MAX_LAYERS, positiveInt, type InputDtype } from '../layers/fields.ts';
import { f32NonNegative } from './numbers.ts';
import { layerDefs, layerTableGeneration, type builtinLayers } from '../layers/registry.ts';
import { arityOf, type AnyLayerDef } from '../layers/layer.ts';
import type { LayerInputOf } from '../layers/symbolic.ts';
import type { LossInput, LossSpec } from './losses.ts';
import type { OptimizerInput, OptimizerSpec } from '../optim/spec.ts';
export { initializerNames, type InitializerSpec } from '../init/initializers.ts';
export { Loss, lossNames, type LossInput, type LossSpec } from './losses.ts';
export { activationNames, type ActivationName, type ActivationSpec } from './activations.ts';

/**
 * Layers that can read one tensor; those reading several only (merges) exist in the graph form only.
 * A layer that may read one or more (attention: self-attention, or query, value and key) fits a chain.
 */
const sequentialLayer = (def: AnyLayerDef): boolean => arityOf(def).min === 1;

/** Parsed layer data before the Sequential form names every layer. */
interface ParsedLayer {
  readonly type: string;
  readonly name?: string;
  readonly [option: string]: unknown;
}

function nonEmpty<T>(items: readonly T[]): [T, ...T[]] {
  if (items.length === 0) throw new Error('internal: the layer table is empty');
  return [items[0]!, ...items.slice(1)];
}

function unknownType(what: string, types: readonly string[]) {
  return (iss: { readonly input?: unknown }) => {
    const given = (iss.input as { type?: unknown } | undefined)?.type;
    return `unknown ${what} type ${JSON.stringify(given)}; expected one of ${types.join(', ')}`;
  };
}

const shared = {
  optimizer: Optimizer.default({ type: 'sgd', learningRate: 0.01 }),
  batchSize: positiveInt.max(65536, { error: 'batchSize above 65536' }).default(32),
  seed: z.int().min(0).max(0xffffffff).default(0),
};

/** Both forms' schemas, made from the layer table as it is now. */
function buildSchemas() {
  const defs = layerDefs();
  const layerSchemas = defs.filter(sequentialLayer).map((def) => z.strictObject({ ...def.options, type: z.literal(def.type), name: identifier.optional() }));
  const layerTypes = defs.filter(sequentialLayer).map((def) => def.type);
  const Layer: z.ZodType<ParsedLayer> = z.discriminatedUnion('type', nonEmpty(layerSchemas), { error: unknownType('layer', layerTypes) });

  // The graph form. Every node names itself and the tensors it reads (model inputs or other nodes,
  // in any order: the DAG is sorted and checked after parsing, compiler/model/dag.ts).
  const nodeSchemas = defs.map((def) => {
    const { min } = arityOf(def);
    const inputs = z.array(identifier).min(min, { error: min === 1 ? 'a node reads at least one input' : `${def.type} reads at least ${min} inputs` });
    return z.strictObject({ ...def.options, type: z.literal(def.type), name: identifier, inputs });
  });
  /** A shared layer: applies the layer of node `layer` (its very parameters) to other inputs. */
  const ApplyNode = z.strictObject({ type: z.literal('apply'), name: identifier, layer: identifier, inputs: z.array(identifier).min(1, { error: 'a node reads at least one input' }) });
  const nodeTypes = [...defs.map((def) => def.type), 'apply'];
  const GraphNode: z.ZodType<NodeSpec> = z.discriminatedUnion('type', nonEmpty<z.ZodObject<{ type: z.ZodLiteral<string>; name: z.ZodString; inputs: z.ZodArray<z.ZodString> }>>([...nodeSchemas, ApplyNode]), {
    error: unknownType('node', nodeTypes),
  });

  const sequential = z.strictObject({
    name: identifier.default('model'),
    input: z.strictObject({
      name: identifier.default('x'),
      shape: inputShape,
      dtype: inputDtype,
    }),
    layers: z.array(Layer).min(1, { error: 'a model needs at least one layer' }).max(MAX_LAYERS, { error: `more than ${MAX_LAYERS} layers, the most a model may have` }),
    loss: Loss,
    ...shared,
  });
  const graph = z.strictObject({
    name: identifier.default('model'),
    inputs: z.array(z.strictObject({ name: identifier, shape: inputShape, dtype: inputDtype })).min(1, { error: 'a model needs at least one input' }),
    nodes: z.array(GraphNode).min(1, { error: 'a model needs at least one node' }).max(MAX_LAYERS, { error: `more than ${MAX_LAYERS} nodes, the most a model may have` }),
    outputs: z
      .array(
        z.strictObject({
          node: identifier,
          /** Default: the node's name. Names the output's prediction, targets and loss. */
          name: identifier.optional(),
          loss: Loss,
          /** Keras's loss_weights: the model's loss is Σ lossWeight · loss over the outputs. */
          lossWeight: f32NonNegative.default(1),
        }),
      )
      .min(1, { error: 'a model needs at least one output' }),
    ...shared,
  });
  return { sequential, graph };
}

let cached: { readonly generation: number; readonly schemas: ReturnType<typeof buildSchemas> } | undefined;
function schemas(): ReturnType<typeof buildSchemas> {
  if (cached?.generation !== layerTableGeneration()) cached = { generation: layerTableGeneration(), schemas: buildSchemas() };
  return cached.schemas;
}

type BuiltinLayer = (typeof builtinLayers)[number];
type InputOf<D> = D extends { readonly type: infer T extends string; readonly options: infer S extends z.ZodRawShape } ? LayerInputOf<S, T> : never;

/** A layer as a user may write it (defaults optional), for a built-in layer type. */
export type LayerInput = InputOf<BuiltinLayer>;
/** A layer in a validated Sequential spec: its type, its name (given or automatic) and its options with defaults filled in. */
export interface LayerSpec {
  readonly type: string;
  readonly name: string;
  readonly [option: string]: unknown;
}
/** A node of a validated graph spec: a layer with the names of what it reads, or an `apply` of a shared layer. */
export interface NodeSpec extends LayerSpec {
  readonly inputs: readonly string[];
}
export interface OutputSpec {
  readonly node: string;
  readonly name: string;
  readonly loss: LossSpec;
  readonly lossWeight: number;
}
interface SharedInput {
  readonly name?: string;
  readonly optimizer?: OptimizerInput;
  readonly batchSize?: number;
  readonly seed?: number;
}

/** What a user may write (defaults optional): the Sequential form. */
export interface ModelSpecInput extends SharedInput {
  readonly input: { readonly name?: string; readonly shape: readonly number[]; readonly dtype?: InputDtype };
  readonly layers: readonly (LayerInput | { readonly type: string; readonly name?: string })[];
  readonly loss: LossInput;
}
/** What a user may write in the graph (functional) form. */
export interface GraphSpecInput extends SharedInput {
  readonly inputs: readonly { readonly name: string; readonly shape: readonly number[]; readonly dtype?: InputDtype }[];
  readonly nodes: readonly ({ readonly type: string; readonly name: string; readonly inputs: readonly string[]; readonly [option: string]: unknown })[];
  readonly outputs: readonly { readonly node: string; readonly name?: string; readonly loss: LossInput; readonly lossWeight?: number }[];
}
interface SharedSpec {
  readonly name: string;
  readonly optimizer: OptimizerSpec;
  readonly batchSize: number;
  readonly seed: number;
}
/** A validated Sequential spec with every default filled in and every layer named. */
export interface SequentialSpec extends SharedSpec {
  readonly input: { readonly name: string; readonly shape: readonly number[]; readonly dtype: InputDtype };
  readonly layers: readonly LayerSpec[];
  readonly loss: LossSpec;
}
/** A validated graph spec: defaults filled in, every output named. */
export interface GraphSpec extends SharedSpec {
  readonly inputs: readonly { readonly name: string; readonly shape: readonly number[]; readonly dtype: InputDtype }[];
  readonly nodes: readonly NodeSpec[];
  readonly outputs: readonly OutputSpec[];
}
export type ModelSpec = SequentialSpec | GraphSpec;

export const isGraphSpec = (spec: ModelSpec): spec is GraphSpec => 'nodes' in spec;

export { SpecError };

function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

/** The zod issues as one SpecError, each line naming the field by its path. */
function specError(issues: readonly z.core.$ZodIssue[]): SpecError {
  const lines = issues.map((issue) => {
    const where = pathText(issue.path) || '(spec)';
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`
        : issue.code === 'invalid_type' && issue.message.endsWith('received undefined')
          ? `missing (${issue.message.replace(/^Invalid input: /, '').replace(/, received undefined$/, '')})`
          : issue.message;
    const given = issue.input;
    const shown = typeof given === 'number' || typeof given === 'boolean' || (typeof given === 'string' && !message.includes(JSON.stringify(given)));
    return `  ${where}: ${message}${shown && issue.code !== 'unrecognized_keys' ? `, got ${JSON.stringify(given)}` : ''}`;
  });
  return new SpecError(`invalid model spec:\n${lines.join('\n')}`);
}

/** A spec is in the graph form when it has any of its fields; otherwise it is Sequential. */
function isGraphForm(input: unknown): boolean {
  return typeof input === 'object' && input !== null && !('layers' in input) && ('nodes' in input || 'inputs' in input || 'outputs' in input);
}

/**
 * Validates a spec (parsed JSON or builder output), Sequential or graph form, and fills defaults;
 * throws SpecError naming each bad field (for a graph: the node and its field).
 */
export function parseSpec(input: unknown): ModelSpec {
  if (isGraphForm(input)) {
    const result = schemas().graph.safeParse(input, { reportInput: true });
    if (!result.success) throw specError(result.error.issues);
    const data = result.data;
    const spec: GraphSpec = { ...data, outputs: data.outputs.map((o) => ({ ...o, name: o.name ?? o.node })) };
    modelDag(spec); // the DAG's own checks: names, references, cycles, shapes, unused nodes
    return spec;
  }
  const result = schemas().sequential.safeParse(input, { reportInput: true });
  if (!result.success) throw specError(result.error.issues);
  const spec = result.data;
  const counts = new Map<string, number>();
  const layers = spec.layers.map((layer): LayerSpec => {
    let name = layer.name;
    if (name === undefined) {
      const k = counts.get(layer.type) ?? 0;
      counts.set(layer.type, k + 1);
      name = k === 0 ? layer.type : `${layer.type}_${k}`;
    }
    return { ...layer, name };
  });
  const seen = new Set<string>();
  layers.forEach((layer, i) => {
    if (seen.has(layer.name)) throw new SpecError(`invalid model spec:\n  layers[${i}].name: duplicate layer name '${layer.name}'`);
    seen.add(layer.name);
  });
  const sequential: SequentialSpec = { ...spec, layers };
  modelDag(sequential); // shapes, and softmax only on the last layer
  return sequential;
}
