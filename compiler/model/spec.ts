// The JSON model spec: the one format the TypeScript builder writes and the CLI reads.
// Validated with zod; every complaint names the field by its path (`layers[1].units`).
import { z } from 'zod';
import { Activation, activationType } from './activations.ts';
import { Loss } from './losses.ts';
import { Optimizer } from '../optim/spec.ts';
export { Optimizer, optimizerNames, type OptimizerSpec } from '../optim/spec.ts';
import { SpecError } from './spec_error.ts';
import { modelDag } from './dag.ts';
import { Initializer } from '../init/initializers.ts';
export { initializerNames, type InitializerSpec } from '../init/initializers.ts';
export { Loss, lossNames, type LossSpec } from './losses.ts';
export { activationNames, type ActivationName, type ActivationSpec } from './activations.ts';

const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an identifier (letters, digits, _; not starting with a digit)' });
const positiveInt = z.int({ error: 'expected an integer' }).positive({ error: 'expected a positive integer' });



const DenseLayer = z.strictObject({
  type: z.literal('dense'),
  name: identifier.optional(),
  units: positiveInt,
  activation: Activation.default('linear'),
  useBias: z.boolean().default(true),
  kernelInitializer: Initializer.default({ type: 'glorot_uniform' }),
  biasInitializer: Initializer.default({ type: 'zeros' }),
});

/** Keras's Activation layer: applies an activation to the previous layer's output. */
const ActivationLayer = z.strictObject({
  type: z.literal('activation'),
  name: identifier.optional(),
  activation: Activation,
});

/**
 * Keras's LayerNormalization over the features of each row: (x − μ) / √(σ² + ε) · γ + β, with
 * Keras's ε = 1e-3. γ and β are named `<layer>.weight` and `<layer>.bias` (PyTorch's names).
 */
const LayerNormalization = z.strictObject({
  type: z.literal('layer_normalization'),
  name: identifier.optional(),
  epsilon: z.number().positive({ error: 'expected a positive number' }).default(1e-3),
  center: z.boolean().default(true),
  scale: z.boolean().default(true),
});

/**
 * Keras's BatchNormalization over the batch, per feature: batch statistics in training (and
 * through them the gradient), running statistics (`<layer>.running_mean`, `.running_var`,
 * saved with the weights) in inference; Keras's momentum 0.99 and ε = 1e-3.
 */
const BatchNormalization = z.strictObject({
  type: z.literal('batch_normalization'),
  name: identifier.optional(),
  momentum: z.number().min(0, { error: 'expected a number in [0, 1)' }).lt(1, { error: 'expected a number in [0, 1)' }).default(0.99),
  epsilon: z.number().positive({ error: 'expected a positive number' }).default(1e-3),
  center: z.boolean().default(true),
  scale: z.boolean().default(true),
});

/** Keras's Dropout: in training, zeroes each element with probability `rate` and scales the rest by 1/(1 − rate); identity in inference. */
const Dropout = z.strictObject({
  type: z.literal('dropout'),
  name: identifier.optional(),
  rate: z.number().min(0, { error: 'expected a number in [0, 1)' }).lt(1, { error: 'expected a number in [0, 1)' }),
});

export const layerTypes = ['dense', 'activation', 'layer_normalization', 'batch_normalization', 'dropout'] as const;
export const Layer = z.discriminatedUnion('type', [DenseLayer, ActivationLayer, LayerNormalization, BatchNormalization, Dropout], {
  error: (iss) => {
    const given = (iss.input as { type?: unknown } | undefined)?.type;
    return `unknown layer type ${JSON.stringify(given)}; expected one of ${layerTypes.join(', ')}`;
  },
});

export const ModelSpecSchema = z.strictObject({
  name: identifier.default('model'),
  input: z.strictObject({
    name: identifier.default('x'),
    shape: z.array(positiveInt).length(1, { error: 'expected [features]: dense models take rank-1 rows' }),
  }),
  layers: z.array(Layer).min(1, { error: 'a model needs at least one layer' }),
  loss: Loss,
  optimizer: Optimizer.default({ type: 'sgd', learningRate: 0.01 }),
  batchSize: positiveInt.max(65536, { error: 'batchSize above 65536' }).default(32),
  seed: z.int().min(0).max(0xffffffff).default(0),
});

// The graph (functional) form. Every node names itself and the tensors it reads (model inputs or
// other nodes, in any order: the DAG is sorted and checked after parsing, compiler/model/dag.ts).
const nodeInputs = z.array(identifier).min(1, { error: 'a node reads at least one input' });
const node = <T extends z.ZodRawShape>(layer: z.ZodObject<T>) => layer.extend({ name: identifier, inputs: nodeInputs });
const merge = <T extends string>(type: T, what: string) =>
  z.strictObject({ type: z.literal(type), name: identifier, inputs: z.array(identifier).min(2, { error: `${type} ${what} at least two inputs` }) });

/** Elementwise sum of inputs of one shape (residual connections). */
const AddNode = merge('add', 'adds');
/** Elementwise product of inputs of one shape. */
const MultiplyNode = merge('multiply', 'multiplies');
/** Inputs joined along the feature axis. */
const ConcatenateNode = merge('concatenate', 'joins');
/** A shared layer: applies the layer of node `layer` (its very parameters) to other inputs. */
const ApplyNode = z.strictObject({ type: z.literal('apply'), name: identifier, layer: identifier, inputs: nodeInputs });

export const mergeTypes = ['add', 'multiply', 'concatenate'] as const;
export const nodeTypes = [...layerTypes, ...mergeTypes, 'apply'] as const;
export const GraphNode = z.discriminatedUnion(
  'type',
  [node(DenseLayer), node(ActivationLayer), node(LayerNormalization), node(BatchNormalization), node(Dropout), AddNode, MultiplyNode, ConcatenateNode, ApplyNode],
  {
    error: (iss) => {
      const given = (iss.input as { type?: unknown } | undefined)?.type;
      return `unknown node type ${JSON.stringify(given)}; expected one of ${nodeTypes.join(', ')}`;
    },
  },
);

export const GraphSpecSchema = z.strictObject({
  name: identifier.default('model'),
  inputs: z.array(z.strictObject({ name: identifier, shape: z.array(positiveInt).length(1, { error: 'expected [features]: inputs are rank-1 rows' }) })).min(1, { error: 'a model needs at least one input' }),
  nodes: z.array(GraphNode).min(1, { error: 'a model needs at least one node' }),
  outputs: z
    .array(
      z.strictObject({
        node: identifier,
        /** Default: the node's name. Names the output's prediction, targets and loss. */
        name: identifier.optional(),
        loss: Loss,
        /** Keras's loss_weights: the model's loss is Σ lossWeight · loss over the outputs. */
        lossWeight: z.number().nonnegative({ error: 'expected a non-negative number' }).default(1),
      }),
    )
    .min(1, { error: 'a model needs at least one output' }),
  optimizer: Optimizer.default({ type: 'sgd', learningRate: 0.01 }),
  batchSize: positiveInt.max(65536, { error: 'batchSize above 65536' }).default(32),
  seed: z.int().min(0).max(0xffffffff).default(0),
});

/** What a user may write (defaults optional): the Sequential form. */
export type ModelSpecInput = z.input<typeof ModelSpecSchema>;
/** What a user may write in the graph (functional) form. */
export type GraphSpecInput = z.input<typeof GraphSpecSchema>;
/** A validated Sequential spec with every default filled in and every layer named. */
export type SequentialSpec = Omit<z.output<typeof ModelSpecSchema>, 'layers'> & { readonly layers: readonly LayerSpec[] };
/** A validated graph spec: defaults filled in, every output named. */
export type GraphSpec = Omit<z.output<typeof GraphSpecSchema>, 'outputs'> & { readonly outputs: readonly OutputSpec[] };
export type ModelSpec = SequentialSpec | GraphSpec;
export type LayerSpec = z.output<typeof Layer> & { readonly name: string };
export type NodeSpec = z.output<typeof GraphNode>;
export type MergeSpec = Extract<NodeSpec, { type: (typeof mergeTypes)[number] }>;
export type OutputSpec = z.output<typeof GraphSpecSchema>['outputs'][number] & { readonly name: string };
export type DenseSpec = Extract<LayerSpec, { type: 'dense' }>;
export type ActivationLayerSpec = Extract<LayerSpec, { type: 'activation' }>;

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
    const result = GraphSpecSchema.safeParse(input, { reportInput: true });
    if (!result.success) throw specError(result.error.issues);
    const spec: GraphSpec = { ...result.data, outputs: result.data.outputs.map((o) => ({ ...o, name: o.name ?? o.node })) };
    modelDag(spec); // the DAG's own checks: names, references, cycles, widths, unused nodes
    return spec;
  }
  const result = ModelSpecSchema.safeParse(input, { reportInput: true });
  if (!result.success) throw specError(result.error.issues);
  const spec = result.data;
  const counts = new Map<string, number>();
  const layers = spec.layers.map((layer) => {
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
  layers.forEach((layer, i) => {
    if ('activation' in layer && activationType(layer.activation) === 'softmax' && i !== layers.length - 1) {
      throw new SpecError(`invalid model spec:\n  layers[${i}].activation: softmax is only supported on the last layer`);
    }
  });
  const sequential: SequentialSpec = { ...spec, layers };
  modelDag(sequential);
  return sequential;
}
