// From a validated spec to the forward graph: prediction and loss as IR, parameters named
// `<layer>.weight` ([units, in]) and `<layer>.bias` ([units]).
import { GraphBuilder } from '../ir/builder.ts';
import { BATCH, findPort, type DType, type Graph, type NodeId, type Port, type Shape } from '../ir/types.ts';
import { activate, activationType } from './activations.ts';
import { affine, mean } from './compose.ts';
import { SpecError, type InitializerSpec, type LossSpec, type ModelSpec } from './spec.ts';

export interface ParamInfo {
  readonly name: string;
  readonly layer: string;
  readonly shape: readonly number[];
  readonly init: InitializerSpec;
  readonly fanIn: number;
  readonly fanOut: number;
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

export const LABELS = 'labels';

interface Head {
  /** The last layer's output. */
  readonly output: NodeId;
  /** Its pre-activation, for losses that fuse the final activation. */
  readonly logits: NodeId;
  readonly activation: string;
  readonly layer: string;
}

function lossFromLogits(loss: Extract<LossSpec, { fromLogits: boolean }>, head: Head, fused: 'sigmoid' | 'softmax'): NodeId {
  if (loss.fromLogits) {
    if (head.activation !== 'linear') {
      throw new SpecError(
        `invalid model spec:\n  loss.fromLogits: the last layer '${head.layer}' applies ${head.activation}, so its output is not logits; use activation 'linear' or fromLogits: false`,
      );
    }
    return head.output;
  }
  if (head.activation !== fused) {
    throw new SpecError(
      `invalid model spec:\n  loss: ${loss.type} on probabilities needs activation '${fused}' on the last layer '${head.layer}' (it has '${head.activation}'), or fromLogits: true with a linear last layer`,
    );
  }
  // The loss is computed from the pre-activation: same value, but no log(0) and no lost digits.
  return head.logits;
}

function buildLoss(b: GraphBuilder, loss: LossSpec, head: Head, units: number): { loss: NodeId; labels: TensorInfo } {
  return b.withLabel(`loss(${loss.type})`, () => {
    let value: NodeId;
    let labels: TensorInfo;
    switch (loss.type) {
      case 'mse': {
        labels = { name: LABELS, shape: [BATCH, units], dtype: 'f32' };
        const y = b.input(LABELS, labels.shape, 'f32');
        const d = b.op('sub', [head.output, y]);
        value = mean(b, b.op('mul', [d, d]));
        break;
      }
      case 'binary_crossentropy': {
        labels = { name: LABELS, shape: [BATCH, units], dtype: 'f32' };
        const y = b.input(LABELS, labels.shape, 'f32');
        value = mean(b, b.op('bce_logits', [lossFromLogits(loss, head, 'sigmoid'), y]));
        break;
      }
      case 'sparse_categorical_crossentropy': {
        labels = { name: LABELS, shape: [BATCH], dtype: 'i32' };
        const y = b.input(LABELS, labels.shape, 'i32');
        const logp = b.op('log_softmax', [lossFromLogits(loss, head, 'softmax')]);
        value = b.op('neg', [mean(b, b.op('gather_label', [logp, y]))]);
        break;
      }
    }
    if (loss.weight !== 1) value = b.op('mul', [b.constant(loss.weight), value]);
    return { loss: value, labels };
  });
}

export function lowerModel(spec: ModelSpec): LoweredModel {
  if (spec.input.name === LABELS) throw new SpecError(`invalid model spec:\n  input.name: '${LABELS}' is reserved for the loss targets`);
  const b = new GraphBuilder();
  const params: ParamInfo[] = [];
  const paramPorts: Port[] = [];
  const inputInfo: TensorInfo = { name: spec.input.name, shape: [BATCH, spec.input.shape[0]!], dtype: 'f32' };
  const x = b.withLabel(spec.input.name, () => b.input(spec.input.name, inputInfo.shape));

  let a = x;
  let width = spec.input.shape[0]!;
  let head: Head | undefined;
  for (const layer of spec.layers) {
    head = b.withLabel(layer.name, (): Head => {
      if (layer.type === 'activation') {
        return { output: activate(b, a, layer.activation), logits: a, activation: activationType(layer.activation), layer: layer.name };
      }
      const weightName = `${layer.name}.weight`;
      const weight = b.param(weightName, [layer.units, width]);
      params.push({ name: weightName, layer: layer.name, shape: [layer.units, width], init: layer.kernelInitializer, fanIn: width, fanOut: layer.units });
      paramPorts.push({ name: weightName, id: weight });
      let bias: NodeId | null = null;
      if (layer.useBias) {
        const biasName = `${layer.name}.bias`;
        bias = b.param(biasName, [layer.units]);
        // Keras's fans for a rank-1 tensor: fan_in = fan_out = its length.
        params.push({ name: biasName, layer: layer.name, shape: [layer.units], init: layer.biasInitializer, fanIn: layer.units, fanOut: layer.units });
        paramPorts.push({ name: biasName, id: bias });
      }
      const z = affine(b, a, weight, bias);
      return { output: activate(b, z, layer.activation), logits: z, activation: activationType(layer.activation), layer: layer.name };
    });
    a = head.output;
    if (layer.type === 'dense') width = layer.units;
  }

  const { loss, labels } = buildLoss(b, spec.loss, head!, width);
  const graph: Graph = {
    nodes: b.nodes,
    inputs: [
      { name: spec.input.name, id: x },
      { name: LABELS, id: b.nodes.find((n) => n.op === 'input' && n.attrs['name'] === LABELS)!.id },
    ],
    params: paramPorts,
    outputs: [
      { name: 'prediction', id: head!.output },
      { name: 'loss', id: loss },
    ],
    updates: [],
  };
  return {
    spec,
    graph,
    params,
    input: inputInfo,
    labels,
    prediction: { name: 'prediction', shape: [BATCH, width], dtype: 'f32' },
  };
}

export function outputId(graph: Graph, name: string): NodeId {
  const port = findPort(graph.outputs, name);
  if (!port) throw new Error(`internal: graph has no output '${name}'`);
  return port.id;
}
