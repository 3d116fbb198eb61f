// Import a Keras or TensorFlow.js model: its topology as a nabla spec, its weights converted to
// nabla's names and (PyTorch's) layouts. Accepts what `tf.io` passes around (ModelArtifacts: the
// topology, weight specs and the weights' bytes), a tfjs model.json with a function that reads its
// weight shards, or a bare Keras topology (`model.to_json()`, a `.keras` file's config.json), which
// has no weights.
import { parseSpec, type GraphSpecInput, type ModelSpecInput } from '../model/spec.ts';
import { modelDag } from '../model/dag.ts';
import { activationType } from '../model/activations.ts';
import type { LossSpec } from '../model/losses.ts';
import type { OptimizerSpec } from '../optim/spec.ts';
import { product } from '../../runtime/tensor.ts';
import { InteropError } from './errors.ts';
import { importTopology, type ImportedTopology } from './keras-topology.ts';
import { lossForActivation, lossFromKeras, optimizerFromKeras } from './keras-training.ts';
import { inversePermutation, permute, type WeightTensor, type Weights } from './weights.ts';
import { isDerivedWeight } from '../layers/interop/types.ts';

/** One weight as a tfjs weights manifest or ModelArtifacts.weightSpecs describes it. */
export interface KerasWeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype?: string;
  readonly quantization?: unknown;
}

/** The parts of `tf.io.ModelArtifacts` an import reads. */
export interface KerasArtifacts {
  readonly modelTopology: unknown;
  readonly weightSpecs?: readonly KerasWeightSpec[];
  /** The weights' bytes, concatenated in weightSpecs order (tfjs ≥ 4.10 may give several buffers). */
  readonly weightData?: ArrayBuffer | readonly ArrayBuffer[] | Uint8Array;
  readonly trainingConfig?: unknown;
}

type LossInput = { readonly type: LossSpec['type'] } & Partial<LossSpec>;

export interface ImportOptions {
  /** The loss of every output (default: the model's training config, else what each output's activation implies). */
  readonly loss?: LossInput;
  /** Default: the model's training config, else nabla's default (SGD, learning rate 0.01). */
  readonly optimizer?: { readonly type: OptimizerSpec['type'] } & Record<string, unknown>;
  readonly batchSize?: number;
  readonly seed?: number;
}

export interface ImportResult {
  /** A nabla spec, Sequential or graph form as the Keras model was; JSON.stringify gives the spec file. */
  readonly spec: ModelSpecInput | GraphSpecInput;
  /** The weights by nabla parameter name, or null for a topology without weights. */
  readonly weights: Weights | null;
  /** What was decided on the model's behalf (a default loss, an optimizer nabla lacks). */
  readonly notes: readonly string[];
}

const fail = (message: string): never => {
  throw new InteropError(message);
};

/** A model.json (tfjs `model.save('file://…')`, `tensorflowjs_converter`) and its weight shards as artifacts. */
export function artifactsFromModelJson(modelJson: unknown, readShard: (path: string) => Uint8Array): KerasArtifacts {
  const json = modelJson as { modelTopology?: unknown; weightsManifest?: { paths: string[]; weights: KerasWeightSpec[] }[]; trainingConfig?: unknown; format?: unknown };
  if (json === null || typeof json !== 'object' || json.modelTopology === undefined) {
    return fail('not a TensorFlow.js layers model.json: no modelTopology (a graph model from tf.saved_model cannot be imported; save a layers model)');
  }
  if (json.format !== undefined && json.format !== 'layers-model') fail(`model.json has format '${String(json.format)}'; nabla imports 'layers-model'`);
  const weightSpecs: KerasWeightSpec[] = [];
  const chunks: Uint8Array[] = [];
  for (const group of json.weightsManifest ?? []) {
    weightSpecs.push(...group.weights);
    for (const path of group.paths) chunks.push(readShard(path));
  }
  const total = chunks.reduce((a, c) => a + c.length, 0);
  const data = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    data.set(c, offset);
    offset += c.length;
  }
  return { modelTopology: json.modelTopology, weightSpecs, weightData: data, trainingConfig: json.trainingConfig };
}

const isArtifacts = (source: unknown): source is KerasArtifacts => typeof source === 'object' && source !== null && 'modelTopology' in source;

function bytesOf(data: KerasArtifacts['weightData']): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  const parts = data.map((b) => new Uint8Array(b));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** The stored weights by name (`:0` suffixes dropped), as float32 in Keras's layouts. */
function kerasWeights(specs: readonly KerasWeightSpec[], data: Uint8Array): Map<string, WeightTensor> {
  const out = new Map<string, WeightTensor>();
  let offset = 0;
  for (const spec of specs) {
    const dtype = spec.dtype ?? 'float32';
    if (spec.quantization !== undefined) fail(`weight '${spec.name}' is quantized; convert the model without quantization`);
    const bytes = product(spec.shape) * (dtype === 'float32' || dtype === 'int32' ? 4 : dtype === 'bool' ? 1 : fail(`weight '${spec.name}' has dtype ${dtype}; nabla reads float32`));
    if (offset + bytes > data.length) fail(`the weight data ends at byte ${data.length}, before weight '${spec.name}' (bytes ${offset}–${offset + bytes})`);
    if (dtype === 'float32') {
      const copy = data.slice(offset, offset + bytes);
      out.set(spec.name.replace(/:0$/, ''), { shape: spec.shape, data: new Float32Array(copy.buffer, 0, bytes / 4) });
    }
    offset += bytes;
  }
  return out;
}

/** The stored weight of a layer: `<layer>/<weight>`, possibly under a scope (`model/dense/kernel`). */
function findWeight(stored: Map<string, WeightTensor>, layer: string, weight: string): WeightTensor | undefined {
  const exact = stored.get(`${layer}/${weight}`);
  if (exact !== undefined) return exact;
  for (const [name, t] of stored) if (name.endsWith(`/${layer}/${weight}`)) return t;
  // Recurrent layers keep their weights in a cell's scope: `lstm/lstm_cell/kernel`, and a
  // wrapper's under its inner layer's: `bi/forward_lstm/lstm_cell/kernel` for `forward_lstm/kernel`.
  const scope = [layer, ...weight.split('/')];
  const leaf = scope.pop()!;
  for (const [name, t] of stored) {
    const parts = name.split('/');
    if (parts.length >= scope.length + 2 && parts.at(-1) === leaf && parts.slice(-2 - scope.length, -2).join('/') === scope.join('/')) return t;
  }
  return undefined;
}

function convertWeights(topology: ImportedTopology, spec: ModelSpecInput | GraphSpecInput, stored: Map<string, WeightTensor>): Weights {
  const dag = modelDag(parseSpec(spec));
  const weights = new Map<string, WeightTensor>();
  for (const layer of topology.layers) {
    const node = dag.nodes.find((n) => n.name === layer.name)!;
    for (const w of layer.def.keras!.weights(layer.options, layer.config)) {
      if (isDerivedWeight(w)) {
        const shapes = w.suffixes.map((suffix) => node.params.find((p) => p.suffix === suffix)!.shape);
        const expected = w.shape(shapes);
        const found = findWeight(stored, layer.kerasName, w.keras) ?? fail(`layer '${layer.kerasName}' (${layer.className}): weight '${layer.kerasName}/${w.keras}' is missing from the weights`);
        if (found.shape.length !== expected.length || found.shape.some((d, i) => d !== expected[i])) {
          fail(`layer '${layer.kerasName}' (${layer.className}): weight '${w.keras}' is [${found.shape.join(', ')}], expected [${expected.join(', ')}]`);
        }
        // Parts of one parameter (zeros outside each part) add up to it.
        w.fromKeras(found.data, shapes).forEach((data, k) => {
          const name = `${layer.name}.${w.suffixes[k]}`;
          const earlier = weights.get(name);
          weights.set(name, { shape: shapes[k]!, data: earlier === undefined ? data : data.map((v, i) => v + earlier.data[i]!) });
        });
        continue;
      }
      const decl = node.params.find((p) => p.suffix === w.suffix)!;
      const perm = w.permutation ?? decl.shape.map((_, i) => i);
      const expected = perm.map((axis) => decl.shape[axis]!);
      const found = findWeight(stored, layer.kerasName, w.keras) ?? fail(`layer '${layer.kerasName}' (${layer.className}): weight '${layer.kerasName}/${w.keras}' is missing from the weights`);
      if (found.shape.length !== expected.length || found.shape.some((d, i) => d !== expected[i])) {
        fail(`layer '${layer.kerasName}' (${layer.className}): weight '${w.keras}' is [${found.shape.join(', ')}], expected [${expected.join(', ')}]`);
      }
      weights.set(`${layer.name}.${w.suffix}`, { shape: decl.shape, data: w.permutation ? permute(found.data, found.shape, inversePermutation(w.permutation)) : found.data });
    }
  }
  return weights;
}

/** The loss given by the options or the training config for each output, else implied by its activation. */
function lossesOf(topology: ImportedTopology, trainingConfig: unknown, options: ImportOptions, notes: string[]): LossInput[] {
  // One loss for all outputs, a list in output order, or a dict by output layer name.
  const configured = (trainingConfig as { loss?: unknown } | null | undefined)?.loss;
  const byName = configured !== null && typeof configured === 'object' && !Array.isArray(configured) && !('class_name' in configured);
  return topology.outputs.map((output, k) => {
    if (options.loss !== undefined) return options.loss;
    const entry = Array.isArray(configured) ? configured[k] : byName ? (configured as Record<string, unknown>)[output] : configured;
    if (entry !== undefined) {
      const loss = lossFromKeras(entry);
      if (loss !== null) return loss;
      notes.push(`output '${output}': loss ${JSON.stringify(entry)} has no nabla equivalent`);
    }
    const node = topology.nodes.find((n) => n['name'] === output)!;
    const owner = node['type'] === 'apply' ? topology.nodes.find((n) => n['name'] === node['layer'])! : node;
    const activation = typeof owner['activation'] === 'string' || typeof owner['activation'] === 'object' ? activationType(owner['activation'] as never) : 'linear';
    const loss = lossForActivation(activation);
    notes.push(`output '${output}': loss ${loss.type} (no loss given; chosen for its ${activation} activation; set one with --loss or the loss option)`);
    return loss;
  });
}

/** Imports a Keras / TensorFlow.js model: artifacts (with weights) or a bare topology (without). */
export function importKerasModel(source: KerasArtifacts | unknown, options: ImportOptions = {}): ImportResult {
  const artifacts: KerasArtifacts = isArtifacts(source) ? source : { modelTopology: source };
  const topologyJson = artifacts.modelTopology as Record<string, unknown> | null;
  // Keras-converted topologies carry their training config inside; a .keras config.json as compile_config.
  const trainingConfig =
    artifacts.trainingConfig ?? topologyJson?.['training_config'] ?? (topologyJson?.['compile_config'] as { config?: unknown } | undefined)?.config ?? topologyJson?.['compile_config'];
  const topology = importTopology(artifacts.modelTopology);
  const notes: string[] = [];
  const losses = lossesOf(topology, trainingConfig, options, notes);
  let optimizer = options.optimizer;
  const configuredOptimizer = (trainingConfig as { optimizer_config?: unknown; optimizer?: unknown } | null | undefined)?.optimizer_config ?? (trainingConfig as { optimizer?: unknown } | undefined)?.optimizer;
  if (optimizer === undefined && configuredOptimizer !== undefined) {
    optimizer = optimizerFromKeras(configuredOptimizer) ?? undefined;
    if (optimizer === undefined) notes.push(`optimizer ${JSON.stringify((configuredOptimizer as { class_name?: unknown }).class_name ?? configuredOptimizer)} has no nabla equivalent; using nabla's default`);
  }
  const shared = {
    name: topology.name,
    ...(optimizer !== undefined ? { optimizer } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };
  const spec: ModelSpecInput | GraphSpecInput =
    topology.form === 'sequential'
      ? ({ ...shared, input: topology.inputs[0]!, layers: topology.nodes, loss: losses[0]! } as ModelSpecInput)
      : ({ ...shared, inputs: topology.inputs, nodes: topology.nodes, outputs: topology.outputs.map((node, k) => ({ node, loss: losses[k]! })) } as unknown as GraphSpecInput);
  parseSpec(spec); // a model nabla would refuse is refused here, with the spec's own message
  const hasWeights = (artifacts.weightSpecs?.length ?? 0) > 0;
  const weights = hasWeights ? convertWeights(topology, spec, kerasWeights(artifacts.weightSpecs!, bytesOf(artifacts.weightData))) : null;
  if (!hasWeights && topology.layers.length > 0) notes.push('the topology has no weights: the spec starts from its initializers');
  return { spec, weights, notes };
}
