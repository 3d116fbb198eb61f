// From a validated spec to the forward graph: prediction and loss as IR, parameters named
// `<layer>.weight` ([units, in]) and `<layer>.bias` ([units]).
//
// Each node lowers through its layer's definition (compiler/layers/): this file knows no layer type.
//
// Train vs inference mode: a model with a layer that computes differently in training
// (`trainingDiffers`: batch_normalization, dropout) is lowered twice into one graph, sharing inputs,
// labels and parameters. The inference pass gives `prediction` and `loss` (predict, evaluate); the
// training pass gives `train_loss` (gradients, train_step), with batch statistics and dropout
// masks, and the updates of the running statistics and the step counter. Models without such
// layers have one pass and no `train_loss`.
import { GraphBuilder } from '../ir/builder.ts';
import { BATCH, findPort, type DType, type Graph, type NodeId, type Port, type Shape } from '../ir/types.ts';
import { buildLoss, type BuiltLoss, type Head } from './losses.ts';
import { modelDag, type DagNode } from './dag.ts';
import type { InitializerSpec, LossSpec, ModelSpec } from './spec.ts';
import type { ParamDecl } from '../layers/layer.ts';
import { LABELS, LOSS, portName, PREDICTION, STEP, TRAIN_LOSS } from '../../runtime/ports.ts';

export interface ParamInfo {
  readonly name: string;
  readonly layer: string;
  readonly shape: readonly number[];
  readonly init: InitializerSpec;
  readonly fanIn: number;
  readonly fanOut: number;
  /** False for running statistics: saved with the weights, updated by the training pass, not by the optimizer. */
  readonly trainable: boolean;
}

export interface TensorInfo {
  readonly name: string;
  /** Shape with the batch dimension first, written 'N'. */
  readonly shape: Shape;
  readonly dtype: DType;
  /** int32 token-id inputs: every id lies in [0, idBound). */
  readonly idBound?: number;
}

/** One model output: its prediction, its targets and its loss. */
export interface OutputInfo {
  readonly name: string;
  /** The graph output holding the prediction: `prediction`, or `prediction:<name>` in a multi-output model. */
  readonly prediction: TensorInfo;
  /** The graph input of its targets: `labels`, or `labels:<name>` in a multi-output model. */
  readonly labels: TensorInfo;
  readonly loss: LossSpec;
  readonly lossWeight: number;
  /** The graph output holding this output's own loss (before lossWeight): `loss:<name>`, multi-output models only. */
  readonly lossPort?: string;
}

export interface LoweredModel {
  readonly spec: ModelSpec;
  /** Outputs the predictions and `loss` (Σ lossWeight · loss over the model's outputs). */
  readonly graph: Graph;
  readonly params: readonly ParamInfo[];
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly OutputInfo[];
  /** The first input, output targets and prediction: the whole interface of a single-input, single-output model. */
  readonly input: TensorInfo;
  readonly labels: TensorInfo;
  readonly prediction: TensorInfo;
}

type Mode = 'train' | 'inference';

/** Random layer k draws from streams 2³¹ + k·2²⁴ + t: clear of the parameters' streams 0, 1, 2, … */
const randomStream = (k: number): number => (0x80000000 + k * 0x1000000) >>> 0;

export function lowerModel(spec: ModelSpec): LoweredModel {
  const dag = modelDag(spec);
  const several = dag.outputs.length > 1;
  const b = new GraphBuilder();
  const params: ParamInfo[] = [];
  const paramPorts: Port[] = [];
  const updates: { target: string; value: NodeId }[] = [];
  const inputs: TensorInfo[] = dag.inputs.map((input) =>
    input.dtype === 'int32' ? { name: input.name, shape: [BATCH, ...input.shape], dtype: 'i32', idBound: input.idBound! } : { name: input.name, shape: [BATCH, ...input.shape], dtype: 'f32' },
  );
  const inputIds = inputs.map((input) => b.withLabel(input.name, () => b.input(input.name, input.shape, input.dtype)));

  /** A parameter, created on first use and shared by both passes and by every application of a shared layer. */
  const param = (layer: string, decl: ParamDecl): NodeId => {
    const name = `${layer}.${decl.suffix}`;
    const existing = paramPorts.find((p) => p.name === name);
    if (existing) return existing.id;
    const id = b.param(name, decl.shape);
    // Keras's fans unless the layer states them: [units, in] has fan_in = in, fan_out = units; a
    // rank-1 tensor both its length; a scalar 1.
    const fans = decl.fans ?? { in: decl.shape.at(-1) ?? 1, out: decl.shape[0] ?? 1 };
    params.push({ name, layer, shape: decl.shape, init: decl.init, fanIn: fans.in, fanOut: fans.out, trainable: decl.trainable ?? true });
    paramPorts.push({ name, id });
    return id;
  };

  // The step counter (steps taken), shared with the optimizer: random layers draw anew each step.
  let stepPort: Port | null = null;
  const step = (): NodeId => {
    if (stepPort) return stepPort.id;
    const id = b.withLabel('optimizer', () => b.op('state', [], { name: STEP, shape: [], dtype: 'f32' }));
    stepPort = { name: STEP, id };
    updates.push({ target: STEP, value: b.withLabel('optimizer', () => b.op('add', [id, b.constant(1)])) });
    return id;
  };

  // Random layers are numbered in DAG order: layer k draws from its own stream.
  const randomLayers = dag.nodes.filter((n) => n.def.random);

  /** The mask its inputs carry (several: their product, Keras's logical and), or null. */
  const inputMask = (ins: readonly (NodeId | null)[]): NodeId | null => {
    const present = ins.filter((m): m is NodeId => m !== null);
    return present.length ? present.slice(1).reduce((acc, m) => b.op('mul', [acc, m]), present[0]!) : null;
  };

  /** One node of the DAG on the values (and masks) of its inputs: its head and the mask its output carries. */
  const lowerNode = (node: DagNode, ins: readonly Head[], masks: readonly (NodeId | null)[], mode: Mode): { head: Head; mask: NodeId | null } => {
    const params = Object.fromEntries(node.params.map((decl) => [decl.suffix, param(node.owner, decl)]));
    const mask = inputMask(masks);
    const value = node.def.lower({
      b,
      options: node.options,
      inputs: ins.map((h) => h.output),
      inputShapes: node.inputShapes,
      params,
      training: mode === 'train',
      update: (suffix, value) => updates.push({ target: `${node.owner}.${suffix}`, value }),
      randomness: () => ({ seed: spec.seed, stream: randomStream(randomLayers.indexOf(node)), step: step() }),
      mask,
      masks,
    });
    // A 'pass' layer hands on its inputs' mask, a 'read' one that keeps it its first input's.
    const passed = !node.masked ? null : node.def.mask === 'pass' ? mask : masks[0]!;
    if (typeof value === 'number') return { head: { output: value, logits: value, activation: 'linear', layer: node.name }, mask: passed };
    if ('mask' in value) return { head: { output: value.output, logits: value.output, activation: 'linear', layer: node.name }, mask: value.mask };
    return { head: { output: value.output, logits: value.preActivation, activation: value.activation, layer: node.name }, mask: passed };
  };

  /** The whole DAG once: every node's value by name. */
  const forward = (mode: Mode): Map<string, Head> => {
    const values = new Map<string, Head>(dag.inputs.map((input, k) => [input.name, { output: inputIds[k]!, logits: inputIds[k]!, activation: 'linear', layer: input.name }]));
    const masks = new Map<string, NodeId | null>();
    for (const node of dag.nodes) {
      const ins = node.inputs.map((name) => values.get(name)!);
      const lowered = b.withLabel(mode === 'train' ? `${node.name}[train]` : node.name, () => lowerNode(node, ins, node.inputs.map((name) => masks.get(name) ?? null), mode));
      values.set(node.name, lowered.head);
      masks.set(node.name, lowered.mask);
    }
    return values;
  };

  /** Each output's loss on one pass, and their weighted sum; `labels`: the targets an earlier pass created. */
  const losses = (values: Map<string, Head>, labels?: readonly NodeId[]): { each: BuiltLoss[]; total: NodeId } => {
    const each = dag.outputs.map((o, k) => {
      const width = dag.nodes.find((n) => n.name === o.node)!.shape.at(-1)!;
      return buildLoss(b, o.loss, values.get(o.node)!, width, labels?.[k], portName(LABELS, o.name, several));
    });
    const weighted = each.map((l, k) => {
      const w = dag.outputs[k]!.lossWeight;
      return w === 1 ? l.loss : b.withLabel('loss', () => b.op('mul', [b.constant(w), l.loss]));
    });
    return { each, total: weighted.slice(1).reduce((acc, l) => b.withLabel('loss', () => b.op('add', [acc, l])), weighted[0]!) };
  };

  const inference = forward('inference');
  const scored = losses(inference);
  const labelIds = scored.each.map((l) => l.labelsNode);
  let train: NodeId | null = null;
  if (dag.nodes.some((n) => n.def.trainingDiffers)) {
    train = losses(forward('train'), labelIds).total;
  }
  const outputs: OutputInfo[] = dag.outputs.map((o, k) => ({
    name: o.name,
    prediction: { name: portName(PREDICTION, o.name, several), shape: [BATCH, ...dag.nodes.find((n) => n.name === o.node)!.shape], dtype: 'f32' },
    labels: { ...scored.each[k]!.labels },
    loss: o.loss,
    lossWeight: o.lossWeight,
    ...(several ? { lossPort: portName(LOSS, o.name, true) } : {}),
  }));
  const graph: Graph = {
    nodes: b.nodes,
    inputs: [...inputs.map((input, k) => ({ name: input.name, id: inputIds[k]! })), ...outputs.map((o, k) => ({ name: o.labels.name, id: labelIds[k]! }))],
    params: paramPorts,
    ...(stepPort ? { state: [stepPort] } : {}),
    outputs: [
      ...outputs.map((o) => ({ name: o.prediction.name, id: inference.get(dag.outputs.find((d) => d.name === o.name)!.node)!.output })),
      { name: LOSS, id: scored.total },
      ...outputs.flatMap((o, k) => (o.lossPort ? [{ name: o.lossPort, id: scored.each[k]!.loss }] : [])),
      ...(train !== null ? [{ name: TRAIN_LOSS, id: train }] : []),
    ],
    updates,
  };
  return { spec, graph, params, inputs, outputs, input: inputs[0]!, labels: outputs[0]!.labels, prediction: outputs[0]!.prediction };
}

export function outputId(graph: Graph, name: string): NodeId {
  const port = findPort(graph.outputs, name);
  if (!port) throw new Error(`internal: graph has no output '${name}'`);
  return port.id;
}
