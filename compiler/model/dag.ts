// Both spec forms as one DAG of layers: a Sequential spec is a chain, a graph spec is sorted and
// checked here. Lowering and the summary walk this, so neither knows which form was written. Every
// layer-specific fact (arity, output shape, parameters, whether it can be shared, its activation)
// comes from the layer's definition in the registry.
//
// Checks of the graph form, each naming the node and its field: duplicate names, references to
// unknown inputs or nodes, cycles, shapes that do not fit (the layer's own rule; a shared layer
// applied to another shape), nodes and inputs no output depends on, softmax away from an output,
// shared layers that cannot be shared. The walks are iterative: a model's depth is not bounded by
// the call stack.
import { activationType } from './activations.ts';
import type { LossSpec } from './losses.ts';
import { SpecError } from './spec_error.ts';
import type { GraphSpec, LayerSpec, ModelSpec, NodeSpec, SequentialSpec } from './spec.ts';
import { layerDef, layerDefs } from '../layers/registry.ts';
import { arityOf, batchedText, LayerShapeError, type AnyLayerDef, type FeatureShape, type ParamDecl } from '../layers/layer.ts';
import { LABELS as LABELS_NAME } from '../../runtime/ports.ts';
import type { InputDtype } from '../layers/fields.ts';

export interface DagInput {
  readonly name: string;
  readonly shape: FeatureShape;
  readonly dtype: InputDtype;
  /** int32 inputs: ids must lie in [0, idBound), the smallest bound of the layers reading them. */
  readonly idBound?: number;
}

export interface DagNode {
  readonly name: string;
  /** Where the spec wrote it, for messages: `layers[1]`, `nodes[3]`. */
  readonly path: string;
  /** The layer it applies: for a shared application, the shared node's layer. */
  readonly layer: LayerSpec;
  readonly def: AnyLayerDef;
  /** The layer's options (its spec without type, name and inputs), defaults filled in. */
  readonly options: Readonly<Record<string, unknown>>;
  /** The node whose parameters it uses: its own name, or the shared layer's node. */
  readonly owner: string;
  readonly inputs: readonly string[];
  readonly inputShapes: readonly FeatureShape[];
  readonly shape: FeatureShape;
  /** The parameters of its layer (`<owner>.<suffix>`); a shared application uses the owner's. */
  readonly params: readonly ParamDecl[];
}

export interface DagOutput {
  readonly name: string;
  readonly node: string;
  readonly loss: LossSpec;
  readonly lossWeight: number;
}

export interface ModelDag {
  readonly inputs: readonly DagInput[];
  /** Topological order; for a Sequential spec, the layers in order. */
  readonly nodes: readonly DagNode[];
  readonly outputs: readonly DagOutput[];
  /** Written as a graph spec (outputs named, several inputs possible). */
  readonly graph: boolean;
}

const fail = (line: string): never => {
  throw new SpecError(`invalid model spec:\n  ${line}`);
};

/** A layer's options: its spec without the fields every layer has. */
function optionsOf(layer: LayerSpec | NodeSpec): Record<string, unknown> {
  const { type: _type, name: _name, inputs: _inputs, ...options } = layer as LayerSpec & { inputs?: unknown };
  return options;
}

/** The node of `layer` applied to `inputShapes`; `complain` words a LayerShapeError for where it was written. */
function buildNode(
  layer: LayerSpec,
  name: string,
  path: string,
  owner: string,
  inputs: readonly string[],
  inputShapes: readonly FeatureShape[],
  inputDtypes: readonly InputDtype[],
  complain: (message: string) => never,
): DagNode {
  const def = layerDef(layer.type);
  const options = optionsOf(layer);
  inputDtypes.forEach((dtype, j) => {
    if (dtype === 'int32' && !def.tokenIds) complain(`${layer.type} reads float features, and '${inputs[j]}' holds int32 token ids: feed them to an embedding layer first`);
    if (dtype !== 'int32' && def.tokenIds) complain(`${layer.type} reads int32 token ids, and '${inputs[j]}' is float32: declare the model input with dtype 'int32'`);
  });
  let shape: FeatureShape;
  try {
    shape = def.outputShape(options, inputShapes);
  } catch (e) {
    if (e instanceof LayerShapeError) return complain(e.message);
    throw e;
  }
  const params = def.params?.(options, inputShapes) ?? [];
  return { name, path, layer, def, options, owner, inputs, inputShapes, shape, params };
}

const activationOf = (node: DagNode): string | undefined => (node.def.activation ? activationType(node.def.activation(node.options)) : undefined);

function sequentialDag(spec: SequentialSpec): ModelDag {
  if (spec.input.name === LABELS_NAME) fail(`input.name: '${LABELS_NAME}' is reserved for the loss targets`);
  let previous = spec.input.name;
  let shape: FeatureShape = spec.input.shape;
  const nodes = spec.layers.map((layer, i): DagNode => {
    const path = `layers[${i}]`;
    const node = buildNode(layer, layer.name, path, layer.name, [previous], [shape], [i === 0 ? spec.input.dtype : 'float32'], (message) => fail(`${path}: ${message}; given ${batchedText(shape)} (layer '${layer.name}')`));
    previous = layer.name;
    shape = node.shape;
    return node;
  });
  nodes.forEach((node, i) => {
    if (activationOf(node) === 'softmax' && i !== nodes.length - 1) fail(`${node.path}.activation: softmax is only supported on the last layer`);
  });
  const last = spec.layers.at(-1)!;
  const lastNode = nodes.at(-1)!;
  if (!outputRankFits(lastNode.shape)) fail(`${lastNode.path}: ${outputRankText(lastNode)}`);
  return { inputs: withIdBounds([{ name: spec.input.name, shape: spec.input.shape, dtype: spec.input.dtype }], nodes), nodes, outputs: [{ name: last.name, node: last.name, loss: spec.loss, lossWeight: 1 }], graph: false };
}

/** Each int32 input with the bound its ids must stay below: the least of the layers reading it. */
function withIdBounds(inputs: readonly DagInput[], nodes: readonly DagNode[]): DagInput[] {
  return inputs.map((input) => {
    if (input.dtype !== 'int32') return input;
    const bounds = nodes.filter((n) => n.def.tokenIds && n.inputs.includes(input.name)).map((n) => n.def.tokenIds!(n.options));
    return bounds.length ? { ...input, idBound: Math.min(...bounds) } : input;
  });
}

/** Losses and predictions are rows of values [N, width], or a row per position [N, steps, width] (a loss per position). */
const outputRankFits = (shape: readonly unknown[]): boolean => shape.length === 1 || shape.length === 2;

/** Why a node cannot be an output. */
function outputRankText(node: DagNode): string {
  return `the output '${node.name}' is ${batchedText(node.shape)}; a model's output is [N, width] per sample, or [N, steps, width] with a loss per position: end with flatten, global pooling or dense`;
}

/** Node indices in dependency order: depth-first in the order written, so a chain keeps its order; a cycle is reported with its path. */
function topologicalOrder(spec: GraphSpec, index: ReadonlyMap<string, number>): number[] {
  const order: number[] = [];
  const state = new Array<'open' | 'done' | undefined>(spec.nodes.length);
  // A shared application also needs the layer it shares built first.
  const readsOf = (node: NodeSpec): readonly string[] => (node.type === 'apply' ? [...node.inputs, node['layer'] as string] : node.inputs);
  for (let root = 0; root < spec.nodes.length; root++) {
    if (state[root] !== undefined) continue;
    const stack: { i: number; next: number }[] = [{ i: root, next: 0 }];
    state[root] = 'open';
    while (stack.length) {
      const top = stack.at(-1)!;
      const reads = readsOf(spec.nodes[top.i]!);
      if (top.next === reads.length) {
        state[top.i] = 'done';
        order.push(top.i);
        stack.pop();
        continue;
      }
      const j = index.get(reads[top.next++]!);
      if (j === undefined || state[j] === 'done') continue;
      if (state[j] === 'open') {
        // The trail runs from readers to what they read; the message shows the data flow.
        const trail = stack.map((s) => spec.nodes[s.i]!.name);
        const name = spec.nodes[j]!.name;
        fail(`nodes[${j}].inputs: cycle ${[...trail.slice(trail.indexOf(name)), name].reverse().join(' → ')} (node '${name}')`);
      }
      state[j] = 'open';
      stack.push({ i: j, next: 0 });
    }
  }
  return order;
}

function graphDag(spec: GraphSpec): ModelDag {
  const where = new Map<string, string>();
  const claim = (name: string, path: string): void => {
    const earlier = where.get(name);
    if (earlier !== undefined) fail(`${path}.name: duplicate name '${name}' (also ${earlier})`);
    where.set(name, path);
  };
  spec.inputs.forEach((input, i) => {
    if (input.name === LABELS_NAME) fail(`inputs[${i}].name: '${LABELS_NAME}' is reserved for the loss targets`);
    claim(input.name, `inputs[${i}]`);
  });
  spec.nodes.forEach((node, i) => claim(node.name, `nodes[${i}]`));
  const inputShapes = new Map(spec.inputs.map((input) => [input.name, input.shape]));
  const index = new Map(spec.nodes.map((node, i) => [node.name, i]));
  spec.nodes.forEach((node, i) =>
    node.inputs.forEach((name, j) => {
      if (!inputShapes.has(name) && !index.has(name)) fail(`nodes[${i}].inputs[${j}]: unknown input or node '${name}' (node '${node.name}')`);
    }),
  );

  const built = new Map<string, DagNode>();
  const shapeOfName = (name: string): FeatureShape => inputShapes.get(name) ?? built.get(name)!.shape;
  const inputDtypes = new Map(spec.inputs.map((input) => [input.name, input.dtype]));
  const dtypeOfName = (name: string): InputDtype => inputDtypes.get(name) ?? 'float32';
  const nodes = topologicalOrder(spec, index).map((i): DagNode => {
    const written = spec.nodes[i]!;
    const path = `nodes[${i}]`;
    const shapes = written.inputs.map(shapeOfName);
    const given = (): string => written.inputs.map((name, j) => `'${name}' is ${batchedText(shapes[j]!)}`).join(', ');
    const complain = (message: string): never => fail(`${path}.inputs: ${message}; ${given()} (node '${written.name}')`);
    let node: DagNode;
    if (written.type === 'apply') {
      const sharedName = written['layer'] as string;
      const shared = spec.nodes[index.get(sharedName) ?? -1];
      if (!shared) return fail(`${path}.layer: unknown node '${sharedName}' (node '${written.name}')`);
      if (shared.type === 'apply') return fail(`${path}.layer: '${sharedName}' is itself a shared application; name the layer it shares (node '${written.name}')`);
      const def = layerDef(shared.type);
      if (def.shareable === false) {
        const shareable = layerDefs().filter((d) => d.shareable !== false).map((d) => d.type);
        return fail(`${path}.layer: '${sharedName}' is a ${shared.type} node, which cannot be shared; shareable layers: ${shareable.join(', ')} (node '${written.name}')`);
      }
      const own = built.get(sharedName) ?? fail(`${path}.layer: '${sharedName}' depends on node '${written.name}' itself`);
      if (written.inputs.length !== own.inputs.length) {
        fail(`${path}.inputs: layer '${sharedName}' reads ${own.inputs.length} input(s), given ${written.inputs.length} (node '${written.name}')`);
      }
      shapes.forEach((s, j) => {
        const expected = own.inputShapes[j]!;
        if (s.length !== expected.length || s.some((d, k) => d !== expected[k])) {
          fail(`${path}.inputs[${j}]: layer '${sharedName}' takes ${batchedText(expected)}, '${written.inputs[j]}' is ${batchedText(s)} (node '${written.name}')`);
        }
      });
      node = { ...buildNode(own.layer, written.name, path, sharedName, written.inputs, shapes, written.inputs.map(dtypeOfName), complain), params: own.params };
    } else {
      const { min, max } = arityOf(layerDef(written.type));
      if (max === 1 && written.inputs.length !== 1) fail(`${path}.inputs: a ${written.type} layer reads one input, given ${written.inputs.length} (node '${written.name}')`);
      if (written.inputs.length < min || (max !== undefined && written.inputs.length > max)) {
        fail(`${path}.inputs: a ${written.type} layer reads ${min} to ${max ?? 'any number of'} inputs, given ${written.inputs.length} (node '${written.name}')`);
      }
      const { inputs: _inputs, ...layer } = written;
      node = buildNode(layer, written.name, path, written.name, written.inputs, shapes, written.inputs.map(dtypeOfName), complain);
    }
    built.set(node.name, node);
    return node;
  });

  const outputNames = new Map<string, number>();
  spec.outputs.forEach((output, k) => {
    if (!index.has(output.node)) {
      const what = inputShapes.has(output.node) ? `'${output.node}' is a model input; an output is a node` : `unknown node '${output.node}'`;
      fail(`outputs[${k}].node: ${what}`);
    }
    if (!outputRankFits(built.get(output.node)!.shape)) fail(`outputs[${k}].node: ${outputRankText(built.get(output.node)!)}`);
    if (outputNames.has(output.name)) fail(`outputs[${k}].name: duplicate output name '${output.name}' (also outputs[${outputNames.get(output.name)}])`);
    outputNames.set(output.name, k);
  });

  // Everything written must feed some output: an unused node is almost always a wiring mistake.
  const used = new Set<string>();
  const pending = spec.outputs.map((o) => o.node);
  while (pending.length) {
    const name = pending.pop()!;
    if (used.has(name)) continue;
    used.add(name);
    const node = built.get(name);
    if (node) {
      pending.push(...node.inputs);
      if (node.owner !== node.name) pending.push(node.owner);
    }
  }
  spec.nodes.forEach((node, i) => {
    if (!used.has(node.name)) fail(`nodes[${i}]: node '${node.name}' is unused: no output depends on it`);
  });
  spec.inputs.forEach((input, i) => {
    if (!used.has(input.name)) fail(`inputs[${i}]: input '${input.name}' is unused: no output depends on it`);
  });
  const outputNodes = new Set(spec.outputs.map((o) => o.node));
  for (const node of nodes) {
    if (activationOf(node) === 'softmax' && !outputNodes.has(node.name)) {
      fail(`${node.path}.activation: softmax is only supported on an output node (node '${node.name}')`);
    }
  }
  return {
    inputs: withIdBounds(spec.inputs.map((input) => ({ name: input.name, shape: input.shape, dtype: input.dtype })), nodes),
    nodes,
    outputs: spec.outputs.map((o) => ({ name: o.name, node: o.node, loss: o.loss, lossWeight: o.lossWeight })),
    graph: true,
  };
}

/** The DAG of a validated spec; throws SpecError naming the node and field where a graph does not hold together. */
export function modelDag(spec: ModelSpec): ModelDag {
  return 'nodes' in spec ? graphDag(spec) : sequentialDag(spec);
}
