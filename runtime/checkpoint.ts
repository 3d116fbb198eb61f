// A trainer's weights and training state as safetensors: every parameter under its manifest name
// (`<layer>.weight`, `<layer>.bias`, F32, its shape), every optimizer state buffer the manifest
// lists under `optimizer.<name>` (the learning rate `optimizer.optimizer:learning_rate` among them), and metadata with the step count
// and the SHA-256 of the model spec, so a checkpoint can be matched to the model that wrote it.
// Loading checks the whole file against the manifest before it writes one byte.
import { InputError } from './errors.ts';
import { canonicalJson } from './canonical_json.ts';
import { sha256Hex } from './hash.ts';
export { canonicalJson } from './canonical_json.ts';
import type { Manifest, Placed } from './manifest.ts';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type StoredTensor } from './safetensors.ts';
import { shapeText } from './tensor.ts';
import { Trainer } from './trainer.ts';
import { checkpointCallback, type Callback, type ModelCheckpointOptions } from './callbacks.ts';

export const STATE_PREFIX = 'optimizer.';

export interface CheckpointInfo {
  /** Optimizer steps taken when the checkpoint was written (0 when the file does not say). */
  readonly step: number;
  /** The spec hash in the file, if it has one. */
  readonly specSha256?: string;
  /** False when the file names a different spec hash than the trainer's (weights still loaded). */
  readonly sameSpec: boolean;
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * 'restored' from the file; 'reset' to zeros (a fresh optimizer) when the file holds weights
   * only, as files of other tools do; 'none' when the optimizer keeps no state.
   */
  readonly optimizerState: 'restored' | 'reset' | 'none';
}

/** SHA-256 (hex) of the canonical JSON of the spec the trainer was compiled from. */
export async function specHash(manifest: Manifest): Promise<string> {
  return sha256Hex(new TextEncoder().encode(canonicalJson(manifest.spec)));
}

/** Optimizer state buffers (`buffers.state`; absent in manifests of models without state). */
function stateBuffers(manifest: Manifest): readonly Placed[] {
  return (manifest.buffers as { readonly state?: readonly Placed[] }).state ?? [];
}

/** The bytes of a buffer in the trainer's memory (little-endian, as wasm memory always is). */
function memoryBytes(trainer: Trainer, placed: Placed): Uint8Array {
  return new Uint8Array(trainer.views.input.buffer, placed.offset, placed.bytes);
}

export interface SaveOptions {
  /** Optimizer steps taken, written as metadata `step`. Default 0. */
  readonly step?: number;
  /** More string metadata to store (e.g. the preprocessing the data went through); nabla's own keys are refused. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** The trainer's parameters and optimizer state, with `step` and the spec hash in the metadata. */
export async function saveCheckpoint(trainer: Trainer, options: SaveOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  const step = options.step ?? 0;
  if (!Number.isSafeInteger(step) || step < 0) throw new InputError(`checkpoint: step must be a non-negative integer, got ${step}`);
  const m = trainer.manifest;
  const tensors = new Map<string, StoredTensor>();
  // Copies, taken now: steps that run while the hashes are computed cannot change the file.
  m.buffers.params.forEach((placed, i) => tensors.set(placed.name, { dtype: 'F32', shape: m.params[i]!.shape, data: memoryBytes(trainer, placed).slice() }));
  for (const placed of stateBuffers(m)) {
    tensors.set(STATE_PREFIX + placed.name, { dtype: placed.dtype === 'u32' ? 'U32' : 'F32', shape: [placed.bytes / 4], data: memoryBytes(trainer, placed).slice() });
  }
  const own = ['format', 'nabla_version', 'model', 'spec_sha256', 'step', 'optimizer', DATA_HASH];
  const clash = Object.keys(options.metadata ?? {}).find((key) => own.includes(key));
  if (clash !== undefined) throw new InputError(`checkpoint: metadata key '${clash}' is nabla's own (${own.join(', ')})`);
  for (const [key, value] of Object.entries(options.metadata ?? {})) {
    if (typeof value !== 'string') throw new InputError(`checkpoint: metadata '${key}' must be a string (safetensors metadata is string to string), got ${typeof value}`);
  }
  const metadata = {
    ...options.metadata,
    format: 'nabla',
    nabla_version: m.nablaVersion,
    model: m.model,
    spec_sha256: await specHash(m),
    step: String(step),
    optimizer: m.optimizer.type,
  };
  // The data section's hash goes in the header, which comes first: encode once to learn the
  // data's bytes (the header's size does not change them), then with the hash.
  const data = decodeSafetensors(encodeSafetensors(tensors, metadata)).data;
  return encodeSafetensors(tensors, { ...metadata, [DATA_HASH]: await sha256Hex(data) });
}

/** Metadata key of the SHA-256 (hex) of the data section: a flipped byte in a weight is caught on load. */
export const DATA_HASH = 'data_sha256';

/** A step count as metadata writes it: decimal digits, no sign, no leading zeros, no hex. */
const STEP_TEXT = /^(0|[1-9][0-9]*)$/;

function expectTensor(stored: StoredTensor | undefined, name: string, shape: readonly number[], what: string): StoredTensor {
  if (stored === undefined) throw new SafetensorsError(`checkpoint: ${what} '${name}' is missing from the file`);
  if (stored.dtype !== 'F32') throw new SafetensorsError(`checkpoint: ${what} '${name}' has dtype ${stored.dtype}, expected F32 (nabla trains in float32)`);
  if (shapeText(stored.shape) !== shapeText(shape)) throw new SafetensorsError(`checkpoint: ${what} '${name}' has shape ${shapeText(stored.shape)}, expected ${shapeText(shape)}`);
  return stored;
}

/**
 * A u32 counter's bytes from its tensor: U32 as nabla writes it, or F32 as trainers before the
 * u32 counter wrote it (then a whole number in [0, 2³²), converted).
 */
function counterBytes(stored: StoredTensor | undefined, name: string, placed: Placed): Uint8Array {
  if (stored === undefined) throw new SafetensorsError(`checkpoint: optimizer state '${name}' is missing from the file`);
  const count = placed.bytes / 4;
  if (shapeText(stored.shape) !== shapeText([count])) throw new SafetensorsError(`checkpoint: optimizer state '${name}' has shape ${shapeText(stored.shape)}, expected ${shapeText([count])}`);
  if (stored.dtype === 'U32') return stored.data;
  if (stored.dtype !== 'F32') throw new SafetensorsError(`checkpoint: optimizer state '${name}' has dtype ${stored.dtype}, expected U32 (a step count)`);
  const from = new DataView(stored.data.buffer, stored.data.byteOffset, stored.data.byteLength);
  const out = new Uint8Array(placed.bytes);
  const to = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    const v = from.getFloat32(4 * i, true);
    if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) throw new SafetensorsError(`checkpoint: optimizer state '${name}' element ${i} is ${v}, not a step count`);
    to.setUint32(4 * i, v, true);
  }
  return out;
}

/**
 * Loads a safetensors file into the trainer: names, dtypes and shapes must match the manifest
 * exactly (files written by other tools, without metadata, are welcome), and every value must be
 * finite. Any mismatch throws SafetensorsError and leaves the trainer untouched.
 */
export async function loadCheckpoint(trainer: Trainer, bytes: Uint8Array): Promise<CheckpointInfo> {
  const m = trainer.manifest;
  const file = decodeSafetensors(bytes);
  // Files from other tools carry no hash; a file that has one must match it.
  const expectedHash = file.metadata[DATA_HASH];
  if (expectedHash !== undefined) {
    const actual = await sha256Hex(file.data);
    if (actual !== expectedHash) {
      throw new SafetensorsError(`checkpoint: the data section's SHA-256 is ${actual}, but __metadata__.${DATA_HASH} says ${expectedHash}: the file is damaged`);
    }
  }
  const writes: [Placed, Uint8Array][] = [];
  m.buffers.params.forEach((placed, i) => writes.push([placed, expectTensor(file.tensors.get(placed.name), placed.name, m.params[i]!.shape, 'parameter').data]));
  // Hyperparameters (the learning rate) are restored where the file has them; a file of weights
  // only, or one written before they lived in the arena, leaves the trainer's current values.
  const hyper = new Set((m.hyperparameters ?? []).map((h) => h.state));
  for (const placed of stateBuffers(m).filter((p) => hyper.has(p.name))) {
    const stored = file.tensors.get(STATE_PREFIX + placed.name);
    if (stored !== undefined) writes.push([placed, expectTensor(stored, STATE_PREFIX + placed.name, [1], 'hyperparameter').data]);
  }
  const state = stateBuffers(m).filter((p) => !hyper.has(p.name));
  // Weights only (no optimizer.* state tensor at all): start the optimizer afresh. Part of the state: refuse.
  const hasState = state.length > 0 && [...file.tensors.keys()].some((name) => name.startsWith(STATE_PREFIX) && !hyper.has(name.slice(STATE_PREFIX.length)));
  for (const placed of state) {
    const name = STATE_PREFIX + placed.name;
    const data = !hasState ? new Uint8Array(placed.bytes) : placed.dtype === 'u32' ? counterBytes(file.tensors.get(name), name, placed) : expectTensor(file.tensors.get(name), name, [placed.bytes / 4], 'optimizer state').data;
    writes.push([placed, data]);
  }
  const known = new Set([...m.buffers.params.map((p) => p.name), ...stateBuffers(m).map((p) => STATE_PREFIX + p.name)]);
  const unknown = [...file.tensors.keys()].filter((name) => !known.has(name));
  if (unknown.length) throw new SafetensorsError(`checkpoint: unknown tensor(s) ${unknown.map((n) => `'${n}'`).join(', ')}; model '${m.model}' has ${[...known].join(', ')}`);
  for (const [placed, data] of writes) {
    if (placed.dtype === 'u32') continue; // a count: any u32 is one
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i < data.length; i += 4) {
      const v = view.getFloat32(i, true);
      if (!Number.isFinite(v)) throw new SafetensorsError(`checkpoint: tensor '${placed.name}' element ${i / 4} is ${v}; values must be finite`);
    }
  }
  const stepText = file.metadata.step ?? '0';
  const step = Number(stepText);
  if (!STEP_TEXT.test(stepText) || !Number.isSafeInteger(step)) {
    throw new SafetensorsError(`checkpoint: __metadata__.step is ${JSON.stringify(file.metadata.step)}, not a step count (decimal digits)`);
  }
  const specSha256 = file.metadata.spec_sha256;
  const sameSpec = specSha256 === undefined || specSha256 === (await specHash(m));
  // Everything is checked: now, and only now, write.
  for (const [placed, data] of writes) memoryBytes(trainer, placed).set(data);
  trainer.weightsReplaced();
  const optimizerState = state.length === 0 ? 'none' : hasState ? 'restored' : 'reset';
  return { step, sameSpec, metadata: file.metadata, optimizerState, ...(specSha256 !== undefined ? { specSha256 } : {}) };
}

/**
 * keras.callbacks.ModelCheckpoint for a Trainer: a checkpoint (weights, optimizer state, learning
 * rate, the step count) every epoch or when the monitored value improves, handed to `write`
 * (runtime/node's fileCheckpoint writes files atomically). Use with fitAsync, which awaits the writes.
 */
export function modelCheckpoint(options: ModelCheckpointOptions): Callback {
  return checkpointCallback((model) => {
    if (!(model instanceof Trainer)) throw new InputError('modelCheckpoint: checkpoints are of compiled trainers (the interpreter has no safetensors form)');
    return saveCheckpoint(model, { step: model.guard.steps });
  }, options);
}
