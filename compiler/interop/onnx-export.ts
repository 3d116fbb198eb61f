// Export to ONNX: the inference graph (batch norm with its running statistics, dropout as the
// identity) at opset 17, IR version 8, encoded with onnx-proto (ONNX's own onnx.proto compiled by
// protobufjs). Inputs are float32 [N, ...shape] (int32 for token ids) with a symbolic batch N, named as the spec's
// inputs; outputs are named as the spec's outputs; every parameter is an initializer under its
// nabla name. Each layer adds its nodes through the `onnx` mapping of its definition.
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import { NABLA_VERSION } from '../version.ts';
import { parseSpec } from '../model/spec.ts';
import { modelDag } from '../model/dag.ts';
import type { OnnxEmitter } from '../layers/interop/types.ts';
import { formOf, namingLayer } from './errors.ts';
import { toWeights, weightOf, type WeightsInput } from './weights.ts';

const { onnx } = onnxProto;

export const ONNX_OPSET = 17;
const IR_VERSION = 8;

/** Attributes the layers give that ONNX types as integers; every other number is a float. */
const INTEGER_ATTRIBUTES = new Set(['axis', 'axes', 'transA', 'transB', 'keepdims', 'kernel_shape', 'strides', 'pads', 'dilations', 'group', 'count_include_pad', 'ceil_mode', 'perm', 'hidden_size', 'linear_before_reset']);

function attribute(name: string, value: number | readonly number[]): Onnx.IAttributeProto {
  const integer = INTEGER_ATTRIBUTES.has(name);
  if (typeof value === 'number') return integer ? { name, type: onnx.AttributeProto.AttributeType.INT, i: value } : { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value };
  return integer ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...value] } : { name, type: onnx.AttributeProto.AttributeType.FLOATS, floats: [...value] };
}

function floatTensor(name: string, shape: readonly number[], data: Float32Array): Onnx.ITensorProto {
  return { name, dims: [...shape], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function int64Tensor(name: string, values: readonly number[]): Onnx.ITensorProto {
  return { name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: [...values] };
}

function valueInfo(name: string, features: readonly number[], dtype: 'float32' | 'int32' = 'float32'): Onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: dtype === 'int32' ? onnx.TensorProto.DataType.INT32 : onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, ...features.map((d) => ({ dimValue: d }))] } } },
  };
}

/** A nabla spec and its weights as an ONNX model (the bytes of a .onnx file). */
export function exportOnnx(specInput: unknown, weightsInput: WeightsInput): Uint8Array {
  const spec = parseSpec(specInput);
  const dag = modelDag(spec);
  const weights = toWeights(weightsInput);
  const nodes: Onnx.INodeProto[] = [];
  const initializers: Onnx.ITensorProto[] = [];
  for (const node of dag.nodes) {
    if (node.owner !== node.name) continue;
    for (const p of node.params) {
      const name = `${node.name}.${p.suffix}`;
      initializers.push(floatTensor(name, p.shape, weightOf(weights, name, p.shape).data));
    }
  }
  const values = new Map<string, string>(dag.inputs.map((i) => [i.name, i.name]));
  for (const node of dag.nodes) {
    const mapping = formOf(node, 'onnx', 'ONNX form');
    let count = 0;
    const g: OnnxEmitter = {
      node: (opType, inputs, attributes = {}) => {
        const output = `${node.name}/${opType}_${count++}`;
        nodes.push({ name: output, opType, input: [...inputs], output: [output], attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)) });
        return output;
      },
      constant: (data, shape = []) => {
        const name = `${node.name}/constant_${count++}`;
        initializers.push(floatTensor(name, shape, Float32Array.from(data)));
        return name;
      },
      integers: (values) => {
        const name = `${node.name}/integers_${count++}`;
        initializers.push(int64Tensor(name, values));
        return name;
      },
    };
    const params = Object.fromEntries(node.params.map((p) => [p.suffix, `${node.owner}.${p.suffix}`]));
    values.set(node.name, namingLayer(node, () => mapping.lower(g, node.options, node.inputs.map((i) => values.get(i)!), params, node.inputShapes)));
  }
  for (const o of dag.outputs) nodes.push({ name: `${o.name}/output`, opType: 'Identity', input: [values.get(o.node)!], output: [o.name] });
  const shapeOf = (nodeName: string): readonly number[] => dag.nodes.find((n) => n.name === nodeName)!.shape;
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'nabla',
    producerVersion: NABLA_VERSION,
    graph: {
      name: spec.name,
      node: nodes,
      initializer: initializers,
      input: dag.inputs.map((i) => valueInfo(i.name, i.shape, i.dtype)),
      output: dag.outputs.map((o) => valueInfo(o.name, shapeOf(o.node))),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
