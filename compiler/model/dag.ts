// Both spec forms as one DAG of layers: a Sequential spec is a chain, a graph spec is sorted and
// checked here. Lowering and the summary walk this, so neither knows which form was written.
//
// Checks of the graph form, each naming the node and its field: duplicate names, references to
// unknown inputs or nodes, cycles, widths that do not fit (add/multiply of different widths, a
// shared layer applied to another width), nodes and inputs no output depends on, softmax away
// from an output, shared layers that cannot be shared.
import { activationType } from './activations.ts';
import type { LossSpec } from './losses.ts';
import { SpecError } from './spec_error.ts';
import type { GraphSpec, LayerSpec, MergeSpec, ModelSpec, SequentialSpec } from './spec.ts';
import { LABELS as LABELS_NAME } from '../../runtime/ports.ts';

export interface DagInput {
  readonly name: string;
  readonly width: number;
}

export interface DagNode {
  readonly name: string;
  /** Where the spec wrote it, for messages: `layers[1]`, `nodes[3]`. */
  readonly path: string;
  /** The layer it applies: for a shared application, the shared node's layer. */
  readonly layer: LayerSpec | MergeSpec;
  /** The node whose parameters it uses: its own name, or the shared layer's node. */
  readonly owner: string;
  readonly inputs: readonly string[];
  readonly inputWidths: readonly number[];
  readonly width: number;
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

/** The output width of a layer applied to inputs of `widths`, or a message saying why it does not fit. */
function widthOf(layer: LayerSpec | MergeSpec, widths: readonly number[]): number | string {
  switch (layer.type) {
    case 'dense':
      return layer.units;
    case 'concatenate':
      return widths.reduce((a, w) => a + w, 0);
    case 'add':
    case 'multiply':
      return widths.every((w) => w === widths[0]) ? widths[0]! : `${layer.type} needs inputs of one width`;
    default:
      return widths[0]!;
  }
}

function sequentialDag(spec: SequentialSpec): ModelDag {
  if (spec.input.name === LABELS_NAME) fail(`input.name: '${LABELS_NAME}' is reserved for the loss targets`);
  let previous = spec.input.name;
  let width = spec.input.shape[0]!;
  const nodes = spec.layers.map((layer, i): DagNode => {
    const node = { name: layer.name, path: `layers[${i}]`, layer, owner: layer.name, inputs: [previous], inputWidths: [width], width: widthOf(layer, [width]) as number };
    previous = layer.name;
    width = node.width;
    return node;
  });
  const last = spec.layers.at(-1)!;
  return { inputs: [{ name: spec.input.name, width: spec.input.shape[0]! }], nodes, outputs: [{ name: last.name, node: last.name, loss: spec.loss, lossWeight: 1 }], graph: false };
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
  const widthsOfInputs = new Map(spec.inputs.map((input) => [input.name, input.shape[0]!]));
  const index = new Map(spec.nodes.map((node, i) => [node.name, i]));
  spec.nodes.forEach((node, i) =>
    node.inputs.forEach((name, j) => {
      if (!widthsOfInputs.has(name) && !index.has(name)) fail(`nodes[${i}].inputs[${j}]: unknown input or node '${name}' (node '${node.name}')`);
    }),
  );

  // Depth-first in the order written: a chain keeps its order, and a cycle is found on its way back.
  const order: number[] = [];
  const state = new Array<'open' | 'done' | undefined>(spec.nodes.length);
  const visit = (i: number, trail: readonly string[]): void => {
    if (state[i] === 'done') return;
    const node = spec.nodes[i]!;
    // The trail runs from readers to what they read; the message shows the data flow.
    if (state[i] === 'open') fail(`nodes[${i}].inputs: cycle ${[...trail.slice(trail.indexOf(node.name)), node.name].reverse().join(' → ')} (node '${node.name}')`);
    state[i] = 'open';
    // A shared application also needs the layer it shares built first.
    const reads = node.type === 'apply' ? [...node.inputs, node.layer] : node.inputs;
    for (const name of reads) if (index.has(name)) visit(index.get(name)!, [...trail, node.name]);
    state[i] = 'done';
    order.push(i);
  };
  spec.nodes.forEach((_, i) => visit(i, []));

  const built = new Map<string, DagNode>();
  const widthOfName = (name: string): number => widthsOfInputs.get(name) ?? built.get(name)!.width;
  const nodes = order.map((i): DagNode => {
    const spec_ = spec.nodes[i]!;
    const path = `nodes[${i}]`;
    const inputWidths = spec_.inputs.map(widthOfName);
    let layer: LayerSpec | MergeSpec;
    let owner = spec_.name;
    if (spec_.type === 'apply') {
      const shared = spec.nodes[index.get(spec_.layer) ?? -1];
      if (!shared) fail(`${path}.layer: unknown node '${spec_.layer}' (node '${spec_.name}')`);
      if (shared!.type !== 'dense' && shared!.type !== 'layer_normalization' && shared!.type !== 'activation') {
        fail(`${path}.layer: '${spec_.layer}' is a ${shared!.type} node; only dense, layer_normalization and activation layers can be shared (node '${spec_.name}')`);
      }
      const own = built.get(spec_.layer) ?? fail(`${path}.layer: '${spec_.layer}' depends on node '${spec_.name}' itself`);
      if (spec_.inputs.length !== 1) fail(`${path}.inputs: a shared layer reads one input, given ${spec_.inputs.length} (node '${spec_.name}')`);
      if (inputWidths[0] !== own.inputWidths[0]) {
        fail(`${path}.inputs[0]: layer '${spec_.layer}' takes ${own.inputWidths[0]} features, '${spec_.inputs[0]}' has ${inputWidths[0]} (node '${spec_.name}')`);
      }
      const { inputs: _inputs, ...rest } = shared as typeof shared & { inputs: unknown };
      layer = rest as LayerSpec;
      owner = spec_.layer;
    } else {
      const { inputs: _inputs, ...rest } = spec_;
      layer = rest as LayerSpec | MergeSpec;
      const merges = spec_.type === 'add' || spec_.type === 'multiply' || spec_.type === 'concatenate';
      if (!merges && spec_.inputs.length !== 1) fail(`${path}.inputs: a ${spec_.type} layer reads one input, given ${spec_.inputs.length} (node '${spec_.name}')`);
    }
    const width = widthOf(layer, inputWidths);
    if (typeof width === 'string') {
      const given = spec_.inputs.map((name, j) => `'${name}' has ${inputWidths[j]}`).join(', ');
      fail(`${path}.inputs: ${width}; ${given} (node '${spec_.name}')`);
    }
    const node: DagNode = { name: spec_.name, path, layer, owner, inputs: spec_.inputs, inputWidths, width: width as number };
    built.set(node.name, node);
    return node;
  });

  const outputNames = new Map<string, number>();
  spec.outputs.forEach((output, k) => {
    if (!index.has(output.node)) {
      const what = widthsOfInputs.has(output.node) ? `'${output.node}' is a model input; an output is a node` : `unknown node '${output.node}'`;
      fail(`outputs[${k}].node: ${what}`);
    }
    if (outputNames.has(output.name)) fail(`outputs[${k}].name: duplicate output name '${output.name}' (also outputs[${outputNames.get(output.name)}])`);
    outputNames.set(output.name, k);
  });

  // Everything written must feed some output: an unused node is almost always a wiring mistake.
  const used = new Set<string>();
  const mark = (name: string): void => {
    if (used.has(name)) return;
    used.add(name);
    const node = built.get(name);
    if (node) {
      node.inputs.forEach(mark);
      if (node.owner !== node.name) mark(node.owner);
    }
  };
  spec.outputs.forEach((o) => mark(o.node));
  spec.nodes.forEach((node, i) => {
    if (!used.has(node.name)) fail(`nodes[${i}]: node '${node.name}' is unused: no output depends on it`);
  });
  spec.inputs.forEach((input, i) => {
    if (!used.has(input.name)) fail(`inputs[${i}]: input '${input.name}' is unused: no output depends on it`);
  });
  const outputNodes = new Set(spec.outputs.map((o) => o.node));
  for (const node of nodes) {
    if ('activation' in node.layer && activationType(node.layer.activation) === 'softmax' && !outputNodes.has(node.name)) {
      fail(`${node.path}.activation: softmax is only supported on an output node (node '${node.name}')`);
    }
  }
  return {
    inputs: spec.inputs.map((input) => ({ name: input.name, width: input.shape[0]! })),
    nodes,
    outputs: spec.outputs.map((o) => ({ name: o.name, node: o.node, loss: o.loss, lossWeight: o.lossWeight })),
    graph: true,
  };
}

/** The DAG of a validated spec; throws SpecError naming the node and field where a graph does not hold together. */
export function modelDag(spec: ModelSpec): ModelDag {
  return 'nodes' in spec ? graphDag(spec) : sequentialDag(spec);
}
