// Export to TensorFlow.js: a tfjs-layers model.json and one weights file that
// `tf.loadLayersModel` loads (or, in memory, the `tf.io` ModelArtifacts it takes through
// `tf.io.fromMemory`). A Sequential spec becomes a Sequential model, a graph spec a functional
// Model; every layer through the `keras` mapping of its definition, weights permuted to Keras's
// layouts. The loss and optimizer are not written: tfjs compiles a loaded model anew.
import { parseSpec, isGraphSpec } from '../model/spec.ts';
import { modelDag, type DagNode } from '../model/dag.ts';
import { isDerivedWeight, KerasFieldError } from '../layers/interop/types.ts';
import { formOf, InteropError } from './errors.ts';
import { permute, toWeights, weightOf, type Weights, type WeightsInput } from './weights.ts';
import type { KerasWeightSpec } from './import.ts';
import { NABLA_VERSION } from '../version.ts';

export interface TfjsExport {
  /** model.json, with the weights manifest naming `weightsPath`. */
  readonly modelJson: Record<string, unknown>;
  /** The weights file's bytes (float32, little-endian, in manifest order). */
  readonly weightData: Uint8Array<ArrayBuffer>;
  /** The same model as `tf.io` ModelArtifacts, for `tf.loadLayersModel(tf.io.fromMemory(artifacts))`. */
  readonly artifacts: {
    readonly modelTopology: Record<string, unknown>;
    readonly weightSpecs: readonly KerasWeightSpec[];
    readonly weightData: ArrayBuffer;
    readonly format: string;
    readonly generatedBy: string;
    readonly convertedBy: null;
  };
}

const fail = (message: string): never => {
  throw new InteropError(message);
};

function kerasConfig(node: DagNode): { className: string; config: Record<string, unknown> } {
  const keras = formOf(node, 'keras', 'Keras equivalent', ' to TensorFlow.js');
  try {
    return { className: keras.className, config: { name: node.name, trainable: true, dtype: 'float32', ...keras.toKeras(node.options, node.inputShapes) } };
  } catch (err) {
    if (err instanceof KerasFieldError) return fail(`layer '${node.name}' (${node.def.type}): ${err.message}`);
    throw err;
  }
}

/** The weights in Keras's names, layouts and order. */
function kerasWeights(nodes: readonly DagNode[], weights: Weights): { specs: KerasWeightSpec[]; data: Uint8Array<ArrayBuffer> } {
  const specs: KerasWeightSpec[] = [];
  const parts: Float32Array[] = [];
  for (const node of nodes) {
    if (node.owner !== node.name || node.def.keras === undefined) continue;
    for (const w of node.def.keras.weights(node.options)) {
      if (isDerivedWeight(w)) {
        const shapes = w.suffixes.map((suffix) => node.params.find((p) => p.suffix === suffix)!.shape);
        const params = w.suffixes.map((suffix, k) => weightOf(weights, `${node.name}.${suffix}`, shapes[k]!).data);
        specs.push({ name: `${node.name}/${w.keras}`, shape: [...w.shape(shapes)], dtype: 'float32' });
        parts.push(w.toKeras(params, shapes));
        continue;
      }
      const name = `${node.name}.${w.suffix}`;
      const decl = node.params.find((p) => p.suffix === w.suffix)!;
      const tensor = weightOf(weights, name, decl.shape);
      const perm = w.permutation;
      specs.push({ name: `${node.name}/${w.keras}`, shape: perm ? perm.map((a) => decl.shape[a]!) : [...decl.shape], dtype: 'float32' });
      parts.push(perm ? permute(tensor.data, decl.shape, perm) : tensor.data);
    }
  }
  const data = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    data.set(p, offset);
    offset += p.length;
  }
  return { specs, data: new Uint8Array(data.buffer) };
}

/** A nabla spec and its weights as a TensorFlow.js layers model. */
export function exportTfjs(specInput: unknown, weightsInput: WeightsInput, options: { readonly weightsPath?: string } = {}): TfjsExport {
  const spec = parseSpec(specInput);
  const dag = modelDag(spec);
  const weights = toWeights(weightsInput);
  let config: Record<string, unknown>;
  if (!isGraphSpec(spec)) {
    const layers = dag.nodes.map((node, i) => {
      const { className, config } = kerasConfig(node);
      return { class_name: className, config: i === 0 ? { ...config, batch_input_shape: [null, ...spec.input.shape] } : config };
    });
    config = { class_name: 'Sequential', config: { name: spec.name, layers } };
  } else {
    // A shared layer is one Keras layer with several inbound nodes; a node's value is (owner, call).
    const calls = new Map<string, [string, number]>();
    const callCount = new Map<string, number>();
    const entries = new Map<string, { name: string; class_name: string; config: Record<string, unknown>; inbound_nodes: unknown[] }>();
    const layers: unknown[] = dag.inputs.map((input) => {
      calls.set(input.name, [input.name, 0]);
      return { name: input.name, class_name: 'InputLayer', config: { batch_input_shape: [null, ...input.shape], dtype: 'float32', sparse: false, name: input.name }, inbound_nodes: [] };
    });
    for (const node of dag.nodes) {
      const inbound = [node.inputs.map((i) => [...calls.get(i)!, 0, {}])];
      const k = callCount.get(node.owner) ?? 0;
      callCount.set(node.owner, k + 1);
      calls.set(node.name, [node.owner, k]);
      if (node.owner === node.name) {
        const { className, config } = kerasConfig(node);
        const entry = { name: node.name, class_name: className, config, inbound_nodes: inbound };
        entries.set(node.name, entry);
        layers.push(entry);
      } else {
        entries.get(node.owner)!.inbound_nodes.push(...inbound);
      }
    }
    const endpoint = (name: string): [string, number, number] => [...calls.get(name)!, 0];
    config = {
      class_name: 'Model',
      config: { name: spec.name, layers, input_layers: dag.inputs.map((i) => endpoint(i.name)), output_layers: dag.outputs.map((o) => endpoint(o.node)) },
    };
  }
  const modelTopology = { ...config, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' };
  const { specs, data } = kerasWeights(dag.nodes, weights);
  const generatedBy = `nabla ${NABLA_VERSION}`;
  const weightsPath = options.weightsPath ?? 'weights.bin';
  return {
    modelJson: { format: 'layers-model', generatedBy, convertedBy: null, modelTopology, weightsManifest: [{ paths: [weightsPath], weights: specs }] },
    weightData: data,
    artifacts: { modelTopology, weightSpecs: specs, weightData: data.buffer, format: 'layers-model', generatedBy, convertedBy: null },
  };
}
