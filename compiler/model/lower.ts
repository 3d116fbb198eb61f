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
import { buildLoss, LABELS, type BuiltLoss, type Head } from './losses.ts';
import { SpecError, type InitializerSpec, type ModelSpec } from './spec.ts';
import { STEP } from '../optim/state.ts';

export { LABELS } from './losses.ts';

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

export interface LoweredModel {
  readonly spec: ModelSpec;
  /** Outputs `prediction` and `loss`. */
  readonly graph: Graph;
  readonly params: readonly ParamInfo[];
  readonly input: TensorInfo;
  readonly labels: TensorInfo;
  readonly prediction: TensorInfo;
}

type Mode = 'train' | 'inference';

/** Dropout layer k draws from streams 2³¹ + k·2²⁴ + t: clear of the parameters' streams 0, 1, 2, … */
const dropoutStream = (k: number): number => (0x80000000 + k * 0x1000000) >>> 0;

export const TRAIN_LOSS = 'train_loss';

export function lowerModel(spec: ModelSpec): LoweredModel {
  if (spec.input.name === LABELS) throw new SpecError(`invalid model spec:\n  input.name: '${LABELS}' is reserved for the loss targets`);
  const b = new GraphBuilder();
  const params: ParamInfo[] = [];
  const paramPorts: Port[] = [];
  const updates: { target: string; value: NodeId }[] = [];
  const inputInfo: TensorInfo = { name: spec.input.name, shape: [BATCH, spec.input.shape[0]!], dtype: 'f32' };
  const x = b.withLabel(spec.input.name, () => b.input(spec.input.name, inputInfo.shape));

  /** A parameter, created on first use and shared by both passes. */
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

  const forward = (mode: Mode): { head: Head; width: number } => {
    let a = x;
    let width = spec.input.shape[0]!;
    let head: Head | undefined;
    for (const layer of spec.layers) {
      head = b.withLabel(mode === 'train' ? `${layer.name}[train]` : layer.name, (): Head => {
        switch (layer.type) {
          case 'activation':
            return { output: activate(b, a, layer.activation), logits: a, activation: activationType(layer.activation), layer: layer.name };
          case 'layer_normalization': {
            const gamma = layer.scale ? param(layer.name, 'weight', [width], { type: 'ones' }) : null;
            const beta = layer.center ? param(layer.name, 'bias', [width], { type: 'zeros' }) : null;
            const output = layerNorm(b, a, gamma, beta, layer.epsilon);
            return { output, logits: output, activation: 'linear', layer: layer.name };
          }
          case 'batch_normalization': {
            const gamma = layer.scale ? param(layer.name, 'weight', [width], { type: 'ones' }) : null;
            const beta = layer.center ? param(layer.name, 'bias', [width], { type: 'zeros' }) : null;
            const mean = param(layer.name, 'running_mean', [width], { type: 'zeros' }, false);
            const variance = param(layer.name, 'running_var', [width], { type: 'ones' }, false);
            const bn = batchNorm(b, a, { gamma, beta, mean, variance }, layer, mode === 'train');
            for (const u of bn.updates) updates.push({ target: `${layer.name}.${u.stat}`, value: u.value });
            return { output: bn.output, logits: bn.output, activation: 'linear', layer: layer.name };
          }
          case 'dropout': {
            if (mode === 'inference' || layer.rate === 0) return { output: a, logits: a, activation: 'linear', layer: layer.name };
            const k = spec.layers.filter((l) => l.type === 'dropout').indexOf(layer);
            const mask = b.op('dropout_mask', [step()], { rate: layer.rate, seed: spec.seed, stream: dropoutStream(k), shape: [BATCH, width] });
            const output = b.op('mul', [a, mask]);
            return { output, logits: output, activation: 'linear', layer: layer.name };
          }
          case 'dense': {
            const weight = param(layer.name, 'weight', [layer.units, width], layer.kernelInitializer);
            const bias = layer.useBias ? param(layer.name, 'bias', [layer.units], layer.biasInitializer) : null;
            const z = affine(b, a, weight, bias);
            width = layer.units;
            return { output: activate(b, z, layer.activation), logits: z, activation: activationType(layer.activation), layer: layer.name };
          }
        }
      });
      a = head.output;
    }
    return { head: head!, width };
  };

  const inference = forward('inference');
  const { loss, labels } = buildLoss(b, spec.loss, inference.head, inference.width);
  const labelsId = b.nodes.find((n) => n.op === 'input' && n.attrs['name'] === LABELS)!.id;
  let train: BuiltLoss | null = null;
  if (spec.layers.some((l) => l.type === 'batch_normalization' || l.type === 'dropout')) {
    const pass = forward('train');
    train = buildLoss(b, spec.loss, pass.head, pass.width, labelsId);
  }
  const graph: Graph = {
    nodes: b.nodes,
    inputs: [
      { name: spec.input.name, id: x },
      { name: LABELS, id: labelsId },
    ],
    params: paramPorts,
    ...(stepPort ? { state: [stepPort] } : {}),
    outputs: [
      { name: 'prediction', id: inference.head.output },
      { name: 'loss', id: loss },
      ...(train ? [{ name: TRAIN_LOSS, id: train.loss }] : []),
    ],
    updates,
  };
  return {
    spec,
    graph,
    params,
    input: inputInfo,
    labels,
    prediction: { name: 'prediction', shape: [BATCH, inference.width], dtype: 'f32' },
  };
}

export function outputId(graph: Graph, name: string): NodeId {
  const port = findPort(graph.outputs, name);
  if (!port) throw new Error(`internal: graph has no output '${name}'`);
  return port.id;
}
