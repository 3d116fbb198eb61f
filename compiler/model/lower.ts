// From a validated spec to the forward graph: prediction and loss as IR, parameters named
// `<layer>.weight` ([units, in]) and `<layer>.bias` ([units]).
import { GraphBuilder } from '../ir/builder.ts';
import { BATCH, findPort, type DType, type Graph, type NodeId, type Port, type Shape } from '../ir/types.ts';
import { activate, activationType } from './activations.ts';
import { affine, layerNorm } from './compose.ts';
import { buildLoss, LABELS, type Head } from './losses.ts';
import { SpecError, type InitializerSpec, type ModelSpec } from './spec.ts';

export { LABELS } from './losses.ts';

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
  const addParam = (layer: string, suffix: string, shape: readonly number[], init: InitializerSpec): NodeId => {
    const name = `${layer}.${suffix}`;
    const id = b.param(name, shape);
    // Keras's fans: [units, in] has fan_in = in, fan_out = units; a rank-1 tensor both its length.
    params.push({ name, layer, shape, init, fanIn: shape.at(-1)!, fanOut: shape[0]! });
    paramPorts.push({ name, id });
    return id;
  };
  for (const layer of spec.layers) {
    head = b.withLabel(layer.name, (): Head => {
      if (layer.type === 'activation') {
        return { output: activate(b, a, layer.activation), logits: a, activation: activationType(layer.activation), layer: layer.name };
      }
      if (layer.type === 'layer_normalization') {
        const gamma = layer.scale ? addParam(layer.name, 'weight', [width], { type: 'ones' }) : null;
        const beta = layer.center ? addParam(layer.name, 'bias', [width], { type: 'zeros' }) : null;
        const output = layerNorm(b, a, gamma, beta, layer.epsilon);
        return { output, logits: output, activation: 'linear', layer: layer.name };
      }
      const weight = addParam(layer.name, 'weight', [layer.units, width], layer.kernelInitializer);
      const bias = layer.useBias ? addParam(layer.name, 'bias', [layer.units], layer.biasInitializer) : null;
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
