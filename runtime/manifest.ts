// The manifest: the JSON a trainer .wasm carries in its `nabla.manifest` custom section, and the
// signature the interpreter shares with it. The runtime knows nothing about ops; everything it
// needs to feed, train and read a model is here. docs/abi.md describes it for other hosts.

export const MANIFEST_SECTION = 'nabla.manifest';
export const ABI_VERSION = 1;
/** Custom section of a baseline trainer that holds the relaxed-SIMD build of the same trainer (a whole .wasm). */
export const RELAXED_SECTION = 'nabla.relaxed';
/** Custom sections of a baseline trainer that hold its threaded builds (whole .wasm files), baseline and relaxed SIMD. */
export const THREADED_SECTION = 'nabla.threaded';
export const THREADED_RELAXED_SECTION = 'nabla.threaded.relaxed';

export type DimSpec = number | 'N';

export interface TensorSpec {
  readonly name: string;
  /** Leading 'N' is the batch: 1 ≤ n ≤ batchSize rows per call. */
  readonly shape: readonly DimSpec[];
  readonly dtype: 'f32' | 'i32';
  /** An i32 input of token ids: every id lies in [0, idBound), checked before it reaches the model. */
  readonly idBound?: number;
}

export interface ParamSpec {
  readonly name: string;
  readonly layer: string;
  readonly shape: readonly number[];
  /** Keras name and options, e.g. { type: 'variance_scaling', scale: 2, mode: 'fan_in' }. */
  readonly initializer: { readonly type: string; readonly [option: string]: unknown };
  /** false for batch normalization's running statistics: saved and loaded, but no gradient. */
  readonly trainable?: false;
}

export interface LossInfo {
  readonly type: 'mse' | 'mae' | 'huber' | 'binary_crossentropy' | 'categorical_crossentropy' | 'sparse_categorical_crossentropy';
  readonly weight: number;
  /** Over the rows of a call: 'mean' (the default) or 'sum'. */
  readonly reduction?: 'mean' | 'sum';
  readonly fromLogits?: boolean;
  readonly delta?: number;
}

/** One output of a model: what it predicts, the targets its loss compares with, the loss. */
export interface OutputSpec {
  /** The name the API keys it by (targets, predictions, per-output losses). */
  readonly name: string;
  readonly prediction: TensorSpec;
  readonly labels: TensorSpec;
  readonly loss: LossInfo;
  /** The model's loss is Σ lossWeight · loss over the outputs. */
  readonly lossWeight: number;
}

/**
 * What a model looks like from outside: shared by the compiled trainer and the interpreter.
 * `inputs` and `outputs` list every input and output; `input`, `labels`, `prediction` and `loss`
 * are the first ones, all there is to a single-input, single-output (e.g. Sequential) model.
 */
export interface Signature {
  readonly model: string;
  readonly batchSize: number;
  readonly seed: number;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly OutputSpec[];
  readonly input: TensorSpec;
  readonly labels: TensorSpec;
  readonly prediction: TensorSpec;
  readonly params: readonly ParamSpec[];
  readonly loss: LossInfo;
  /** The optimizer spec: type, learningRate and its options (momentum, betas, schedule, clipping...). */
  readonly optimizer: { readonly type: string; readonly learningRate: number; readonly [option: string]: unknown };
  /**
   * Scalars the host may change between steps (`learningRate`; AdamW's `weightDecay`), each held
   * in the state tensor `state` (a scalar f32 of buffers.state) that init() sets to `initial`.
   * Absent in trainers built when the learning rate was compiled in as a constant.
   */
  readonly hyperparameters?: readonly HyperparameterSpec[];
}

export interface HyperparameterSpec {
  /** The optimizer spec's option name: 'learningRate' or 'weightDecay'. */
  readonly name: string;
  /** Its state tensor (buffers.state). */
  readonly state: string;
  /** The spec's value, set by init(). */
  readonly initial: number;
}

export interface Placed {
  readonly name: string;
  /** Byte offset in the exported memory. */
  readonly offset: number;
  readonly bytes: number;
  /** Element type when not f32: 'u32' for the step counter `optimizer:step`. */
  readonly dtype?: 'u32';
}

export interface Manifest extends Signature {
  readonly format: 'nabla-trainer';
  readonly abiVersion: number;
  readonly nablaVersion: string;
  /** The SIMD this build uses: 'baseline' (SIMD128) or 'relaxed' (adds f32x4.relaxed_madd). */
  readonly simd: 'baseline' | 'relaxed';
  /** SHA-256 (hex) of the relaxed-SIMD build in the `nabla.relaxed` section, when the trainer carries one. */
  readonly relaxedSha256?: string;
  /** SHA-256 (hex) of the threaded builds in the `nabla.threaded` and `nabla.threaded.relaxed` sections, when the trainer carries them. */
  readonly threadedSha256?: { readonly baseline: string; readonly relaxed?: string };
  /**
   * A threaded build's own manifest: it imports its memory (shared, `memory.pages` pages) as
   * `env.memory`, and its control block for worker threads lies at `offset` (after the arena).
   */
  readonly threads?: {
    readonly offset: number;
    readonly bytes: number;
    /** Multiply-adds of the largest product that may run in parts, at the compiled batch size. */
    readonly largestProduct: number;
    /** Products that may run in parts: the forward pass's and the backward pass's (input and weight gradients). */
    readonly partedProducts: number;
    /**
     * Kernels of a training step that may run in parts: the products, and the batched products,
     * softmax rows and elementwise kernels with transcendental functions that are worth splitting.
     * Absent in trainers built before it was counted.
     */
    readonly partedKernels?: number;
    /** The compiled least multiply-adds of a part (a product splits into parts of at least this). */
    readonly minPartWork: number;
  };
  readonly exports: {
    readonly init: string;
    readonly trainStep: string;
    readonly gradients: string;
    readonly evaluate: string;
    readonly predict: string;
    /** train_step with the non-finite guard (see docs/abi.md); absent in trainers built before it. */
    readonly trainStepChecked?: string;
  };
  /**
   * Buffers the host reads and writes, each sized for batchSize rows. `inputs`, `targets` (each
   * output's labels), `predictions` and `losses` (each output's own loss) follow the order of
   * `inputs` and `outputs`; `input`, `labels`, `prediction` are the first of each, `loss` the
   * model's loss (Σ lossWeight · loss).
   */
  readonly buffers: {
    readonly input: Placed;
    readonly labels: Placed;
    readonly prediction: Placed;
    readonly loss: Placed;
    readonly inputs: readonly Placed[];
    readonly targets: readonly Placed[];
    readonly predictions: readonly Placed[];
    readonly losses: readonly Placed[];
    readonly params: readonly Placed[];
    readonly grads: readonly Placed[];
    /**
     * Optimizer state: `<slot>:<param>` (momentum, velocity, m, v) and the step counter
     * `optimizer:step` (u32, steps taken, `dtype: 'u32'`; f32 in trainers built before, which
     * stopped counting at 2²⁴). Zeroed by init; a checkpoint saves them with the weights.
     */
    readonly state: readonly Placed[];
    /** i32 status of the last checked step, then one f32 per parameter: its last finite gradient norm. */
    readonly guard?: Placed;
  };
  /** The tensors the guarded step checks, in order; the status word indexes this list. */
  readonly guard?: { readonly checks: readonly string[] };
  /** Present when compiled with `diagnostics: true`: where each guarded step leaves its telemetry (docs/abi.md). */
  readonly diagnostics?: {
    readonly offset: number;
    readonly bytes: number;
    /** paramStats.length f32 per parameter, in this order, from `offset`. */
    readonly params: readonly string[];
    /** Then layerStats.length f32 per layer. */
    readonly layers: readonly { readonly name: string; readonly activation: string }[];
    readonly paramStats: readonly string[];
    readonly layerStats: readonly string[];
  };
  /**
   * arenaBytes: end of the planned arena. peakBytes: bytes the plan keeps at its high-water mark
   * (buffers reused by liveness); unsharedBytes: what one buffer per tensor would take;
   * minimumBytes: the least any plan could take (parameters + gradients + optimizer state + the
   * peak of the bytes live together at one kernel).
   */
  readonly memory: { readonly arenaBytes: number; readonly pages: number; readonly peakBytes?: number; readonly unsharedBytes?: number; readonly minimumBytes?: number };
  /** The validated model spec the trainer was compiled from. */
  readonly spec: unknown;
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}

export function readManifest(module: WebAssembly.Module): Manifest {
  const sections = WebAssembly.Module.customSections(module, MANIFEST_SECTION);
  if (sections.length !== 1) {
    throw new ManifestError(`not a nabla trainer: expected one '${MANIFEST_SECTION}' custom section, found ${sections.length}`);
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(sections[0])) as Manifest;
  } catch (err) {
    throw new ManifestError(`the '${MANIFEST_SECTION}' section is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) throw new ManifestError(`the '${MANIFEST_SECTION}' section is not a JSON object`);
  if (manifest.format !== 'nabla-trainer') throw new ManifestError(`manifest format '${String(manifest.format)}' is not 'nabla-trainer'`);
  if (manifest.abiVersion !== ABI_VERSION) {
    throw new ManifestError(`trainer ABI version ${manifest.abiVersion} is not supported by this runtime (supports ${ABI_VERSION}); recompile the model`);
  }
  if (typeof manifest.buffers !== 'object' || manifest.buffers === null) throw new ManifestError('manifest does not match the module: buffers is missing');
  return completeManifest(manifest);
}

/** A manifest written before models had several inputs and outputs, given the lists of its one input and output. */
export function completeManifest(m: Manifest): Manifest {
  if (m.inputs && m.buffers.inputs) return m;
  const last = (m.spec as { layers?: readonly { name?: string }[] } | undefined)?.layers?.at(-1)?.name;
  const outputs = [{ name: last ?? 'prediction', prediction: m.prediction, labels: m.labels, loss: m.loss, lossWeight: 1 }];
  const b = m.buffers;
  return { ...m, inputs: [m.input], outputs, buffers: { ...b, inputs: [b.input], targets: [b.labels], predictions: [b.prediction], losses: [b.loss] } };
}
