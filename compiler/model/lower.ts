// From a validated spec to the forward graph: prediction and loss as IR, parameters named
// `<layer>.weight` ([units, in]) and `<layer>.bias` ([units]).
//
// Train vs inference mode: a model with a batch_normalization or dropout layer is lowered twice
// into one graph, sharing inputs, labels and parameters. The inference pass gives `prediction`
// and `loss` (predict, evaluate); the training pass gives `train_loss` (gradients, train_step),
// with batch statistics and dropout masks, and the updates of the running statistics and the
// step counter. Models without such layers have one pass and no `train_loss`.
import { GraphBuilder } from '../ir/builder.ts';
import { BATCH, findPort, type DType, type Graph, type NodeId, type Port, type Shape } from '../ir/types.ts';
import { activate, activationType } from './activations.ts';
import { affine, batchNorm, layerNorm } from './compose.ts';
import { buildLoss, type BuiltLoss, type Head } from './losses.ts';
import { modelDag, type DagNode } from './dag.ts';
import type { InitializerSpec, LossSpec, ModelSpec } from './spec.ts';
import { LABELS, portName, STEP, TRAIN_LOSS } from '../../runtime/ports.ts';

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

/** Dropout layer k draws from streams 2³¹ + k·2²⁴ + t: clear of the parameters' streams 0, 1, 2, … */
const dropoutStream = (k: number): number => (0x80000000 + k * 0x1000000) >>> 0;

export function lowerModel(spec: ModelSpec): LoweredModel {
  const dag = modelDag(spec);
  const several = dag.outputs.length > 1;
  const b = new GraphBuilder();
  const params: ParamInfo[] = [];
  const paramPorts: Port[] = [];
  const updates: { target: string; value: NodeId }[] = [];
  const inputs: TensorInfo[] = dag.inputs.map((input) => ({ name: input.name, shape: [BATCH, input.width], dtype: 'f32' }));
  const inputIds = inputs.map((input) => b.withLabel(input.name, () => b.input(input.name, input.shape)));

  /** A parameter, created on first use and shared by both passes and by every application of a shared layer. */
  const param = (layer: string, suffix: string, shape: readonly number[], init: InitializerSpec, trainable = true): NodeId => {
    const name = `${layer}.${suffix}`;
    const existing = paramPorts.find((p) => p.name === name);
    if (existing) return existing.id;
    const id = b.param(name, shape);
    // Keras's fans: [units, in] has fan_in = in, fan_out = units; a rank-1 tensor both its length.
    params.push({ name, layer, shape, init, fanIn: shape.at(-1)!, fanOut: shape[0]!, trainable });
    paramPorts.push({ name, id });
    return id;
  };

  // The step counter (steps taken), shared with the optimizer: dropout draws a new mask each step.
  let stepPort: Port | null = null;
  const step = (): NodeId => {
    if (stepPort) return stepPort.id;
    const id = b.withLabel('optimizer', () => b.op('state', [], { name: STEP, shape: [], dtype: 'f32' }));
    stepPort = { name: STEP, id };
    updates.push({ target: STEP, value: b.withLabel('optimizer', () => b.op('add', [id, b.constant(1)])) });
    return id;
  };

  const dropouts = dag.nodes.filter((n) => n.layer.type === 'dropout');

  /** One node of the DAG on the values of its inputs. */
  const lowerNode = (node: DagNode, ins: readonly Head[], mode: Mode): Head => {
    const { layer, owner } = node;
    const a = ins[0]!.output;
    const width = node.inputWidths[0]!;
    const plain = (output: NodeId): Head => ({ output, logits: output, activation: 'linear', layer: node.name });
    switch (layer.type) {
      case 'add':
      case 'multiply':
      case 'concatenate': {
        const op = layer.type === 'add' ? 'add' : layer.type === 'multiply' ? 'mul' : 'concat';
        return plain(ins.slice(1).reduce((acc, h) => b.op(op, [acc, h.output]), a));
      }
      case 'activation':
        return { output: activate(b, a, layer.activation), logits: a, activation: activationType(layer.activation), layer: node.name };
      case 'layer_normalization': {
        const gamma = layer.scale ? param(owner, 'weight', [width], { type: 'ones' }) : null;
        const beta = layer.center ? param(owner, 'bias', [width], { type: 'zeros' }) : null;
        return plain(layerNorm(b, a, gamma, beta, layer.epsilon));
      }
      case 'batch_normalization': {
        const gamma = layer.scale ? param(owner, 'weight', [width], { type: 'ones' }) : null;
        const beta = layer.center ? param(owner, 'bias', [width], { type: 'zeros' }) : null;
        const mean = param(owner, 'running_mean', [width], { type: 'zeros' }, false);
        const variance = param(owner, 'running_var', [width], { type: 'ones' }, false);
        const bn = batchNorm(b, a, { gamma, beta, mean, variance }, layer, mode === 'train');
        for (const u of bn.updates) updates.push({ target: `${owner}.${u.stat}`, value: u.value });
        return plain(bn.output);
      }
      case 'dropout': {
        if (mode === 'inference' || layer.rate === 0) return plain(a);
        const mask = b.op('dropout_mask', [step()], { rate: layer.rate, seed: spec.seed, stream: dropoutStream(dropouts.indexOf(node)), shape: [BATCH, width] });
        return plain(b.op('mul', [a, mask]));
      }
      case 'dense': {
        const weight = param(owner, 'weight', [layer.units, width], layer.kernelInitializer);
        const bias = layer.useBias ? param(owner, 'bias', [layer.units], layer.biasInitializer) : null;
        const z = affine(b, a, weight, bias);
        return { output: activate(b, z, layer.activation), logits: z, activation: activationType(layer.activation), layer: node.name };
      }
    }
  };

  /** The whole DAG once: every node's value by name. */
  const forward = (mode: Mode): Map<string, Head> => {
    const values = new Map<string, Head>(dag.inputs.map((input, k) => [input.name, { output: inputIds[k]!, logits: inputIds[k]!, activation: 'linear', layer: input.name }]));
    for (const node of dag.nodes) {
      const ins = node.inputs.map((name) => values.get(name)!);
      values.set(node.name, b.withLabel(mode === 'train' ? `${node.name}[train]` : node.name, () => lowerNode(node, ins, mode)));
    }
    return values;
  };

  /** Each output's loss on one pass, and their weighted sum; `labels`: the targets an earlier pass created. */
  const losses = (values: Map<string, Head>, labels?: readonly NodeId[]): { each: BuiltLoss[]; total: NodeId } => {
    const each = dag.outputs.map((o, k) => {
      const width = dag.nodes.find((n) => n.name === o.node)!.width;
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
  if (dag.nodes.some((n) => n.layer.type === 'batch_normalization' || n.layer.type === 'dropout')) {
    train = losses(forward('train'), labelIds).total;
  }
  const outputs: OutputInfo[] = dag.outputs.map((o, k) => ({
    name: o.name,
    prediction: { name: portName('prediction', o.name, several), shape: [BATCH, dag.nodes.find((n) => n.name === o.node)!.width], dtype: 'f32' },
    labels: { ...scored.each[k]!.labels },
    loss: o.loss,
    lossWeight: o.lossWeight,
    ...(several ? { lossPort: portName('loss', o.name, true) } : {}),
  }));
  const graph: Graph = {
    nodes: b.nodes,
    inputs: [...inputs.map((input, k) => ({ name: input.name, id: inputIds[k]! })), ...outputs.map((o, k) => ({ name: o.labels.name, id: labelIds[k]! }))],
    params: paramPorts,
    ...(stepPort ? { state: [stepPort] } : {}),
    outputs: [
      ...outputs.map((o) => ({ name: o.prediction.name, id: inference.get(dag.outputs.find((d) => d.name === o.name)!.node)!.output })),
      { name: 'loss', id: scored.total },
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
