// Safetensors checkpoints. A round trip preserves every byte; damaged
// or mismatched files fail with an error naming the tensor and field and leave the weights as
// they were; an independent parser (written here from the format's description) reads nabla's
// files, and nabla reads a file laid out the way another tool writes it.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileToWasm } from '../compiler/compile.ts';
import { canonicalJson, loadCheckpoint, saveCheckpoint, specHash } from '../runtime/checkpoint.ts';
import { loadCheckpointFile, saveCheckpointFile } from '../runtime/node.ts';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from '../runtime/safetensors.ts';
import { loadTrainer, type Trainer } from '../runtime/trainer.ts';
import { randomClasses, randomMatrix } from './support/data.ts';

const spec = {
  name: 'ckpt',
  input: { shape: [3] },
  layers: [
    { type: 'dense', name: 'hidden', units: 5, activation: 'tanh' },
    { type: 'dense', name: 'out', units: 2, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  optimizer: { type: 'sgd', learningRate: 0.5 },
  batchSize: 4,
  seed: 3,
};

/** The parameters' bytes, concatenated in manifest order. */
function weightBytes(trainer: Trainer): Uint8Array {
  return new Uint8Array(trainer.manifest.buffers.params.flatMap((p) => Array.from(new Uint8Array(trainer.views.input.buffer, p.offset, p.bytes))));
}

/** A safetensors file built by hand, as another tool would lay it out: its own tensor order, no padding. */
function handBuilt(tensors: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    out.set(t.bytes, at);
    at += t.bytes.length;
  }
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

describe('safetensors checkpoints', () => {
  let wasm: Uint8Array<ArrayBuffer>;
  let trained: Trainer;
  let file: Uint8Array;
  let dir: string;

  beforeAll(async () => {
    wasm = (await compileToWasm(spec)).wasm;
    trained = await loadTrainer(wasm);
    for (let s = 0; s < 5; s++) trained.trainStep(randomMatrix(4, 3, s), randomClasses(4, 2, s));
    file = await saveCheckpoint(trained, { step: 5 });
    dir = mkdtempSync(join(tmpdir(), 'nabla-ckpt-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The trained weights as hand-built tensor entries, to alter one at a time. */
  const trainedTensors = (): { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[] =>
    Object.entries(trained.getWeights()).map(([name, t]) => ({ name, dtype: 'F32', shape: [...t.shape], bytes: f32Bytes(Array.from(t.data)) }));

  /** A fresh trainer with other weights than `trained`, and a check that a call leaves them alone. */
  async function untouchedBy(call: (t: Trainer) => Promise<unknown>, message: RegExp): Promise<void> {
    const fresh = await loadTrainer(wasm);
    fresh.init(99);
    const before = weightBytes(fresh);
    await expect(call(fresh)).rejects.toThrow(message);
    await expect(call(fresh)).rejects.toBeInstanceOf(SafetensorsError);
    expect(weightBytes(fresh)).toEqual(before);
  }

  it('round trip: loading and saving again reproduces the file and every weight byte', async () => {
    const fresh = await loadTrainer(wasm);
    fresh.init(99);
    expect(weightBytes(fresh)).not.toEqual(weightBytes(trained));
    const info = await loadCheckpoint(fresh, file);
    expect(weightBytes(fresh)).toEqual(weightBytes(trained));
    expect(info).toMatchObject({ step: 5, sameSpec: true, specSha256: await specHash(trained.manifest) });
    expect(await saveCheckpoint(fresh, { step: 5 })).toEqual(file);
    // And the trainers go on identically.
    expect(fresh.trainStep(randomMatrix(4, 3, 9), randomClasses(4, 2, 9))).toBe(trained.trainStep(randomMatrix(4, 3, 9), randomClasses(4, 2, 9)));
    expect(weightBytes(fresh)).toEqual(weightBytes(trained));
    file = await saveCheckpoint(trained, { step: 6 });
  });

  it('an independent parser, written from the format description, reads a nabla file', () => {
    const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
    const headerLength = Number(view.getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const { __metadata__: metadata, ...tensors } = header as Record<string, never>;
    expect(metadata).toMatchObject({ format: 'nabla', model: 'ckpt', step: '6', optimizer: 'sgd' });
    expect(Object.keys(tensors).sort()).toEqual(['hidden.bias', 'hidden.weight', 'optimizer.optimizer:learning_rate', 'out.bias', 'out.weight']);
    for (const [name, t] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      expect(t.dtype).toBe('F32');
      const values = Array.from({ length: (t.data_offsets[1] - t.data_offsets[0]) / 4 }, (_, i) => view.getFloat32(8 + headerLength + t.data_offsets[0] + 4 * i, true));
      const expected = name === 'optimizer.optimizer:learning_rate' ? { shape: [1], data: [Math.fround(spec.optimizer.learningRate)] } : trained.getWeights()[name]!;
      expect(t.shape).toEqual(expected.shape);
      expect(values).toEqual(Array.from(expected.data));
    }
  });

  it('loads a file written by another tool: its own order, no metadata, no padding', async () => {
    const weights = trained.getWeights();
    const names = ['out.weight', 'hidden.bias', 'out.bias', 'hidden.weight'];
    const other = handBuilt(names.map((name) => ({ name, dtype: 'F32', shape: [...weights[name]!.shape], bytes: f32Bytes(Array.from(weights[name]!.data)) })));
    const fresh = await loadTrainer(wasm);
    fresh.init(99);
    const info = await loadCheckpoint(fresh, other);
    expect(info).toEqual({ step: 0, sameSpec: true, metadata: {}, optimizerState: 'none' });
    expect(weightBytes(fresh)).toEqual(weightBytes(trained));
  });

  it('a truncated file is refused', async () => {
    await untouchedBy((t) => loadCheckpoint(t, file.subarray(0, file.length - 8)), /tensor 'out\.bias': data_offsets \[120, 128\] run past the 124 data bytes \(truncated\?\)/);
    await untouchedBy((t) => loadCheckpoint(t, file.subarray(0, 100)), /header length \d+ runs past the end of the 100-byte file \(truncated\?\)/);
    await untouchedBy((t) => loadCheckpoint(t, file.subarray(0, 5)), /5 bytes is too short/);
  });

  it('an oversized header length is refused', async () => {
    const bad = file.slice();
    new DataView(bad.buffer).setBigUint64(0, 1n << 40n, true);
    await untouchedBy((t) => loadCheckpoint(t, bad), /header length 1099511627776 exceeds the 100000000-byte limit/);
  });

  it('a wrong dtype is refused', async () => {
    const tensors = trainedTensors();
    const f64 = tensors.map((t) => (t.name === 'out.bias' ? { ...t, dtype: 'F64', bytes: new Uint8Array(Float64Array.from(trained.getWeights()['out.bias']!.data).buffer) } : t));
    await untouchedBy((t) => loadCheckpoint(t, handBuilt(f64)), /parameter 'out\.bias' has dtype F64, expected F32/);
  });

  it('a wrong shape, a missing or an unknown tensor is refused', async () => {
    const tensors = trainedTensors();
    const transposed = tensors.map((t) => (t.name === 'hidden.weight' ? { ...t, shape: [3, 5] } : t));
    await untouchedBy((t) => loadCheckpoint(t, handBuilt(transposed)), /parameter 'hidden\.weight' has shape \[3, 5\], expected \[5, 3\]/);
    await untouchedBy((t) => loadCheckpoint(t, handBuilt(tensors.filter((x) => x.name !== 'out.bias'))), /parameter 'out\.bias' is missing/);
    const extra = [...tensors, { name: 'out.kernel', dtype: 'F32', shape: [1], bytes: f32Bytes([1]) }];
    await untouchedBy((t) => loadCheckpoint(t, handBuilt(extra)), /unknown tensor\(s\) 'out\.kernel'/);
  });

  it('damaged headers and non-finite values are refused', async () => {
    const tensors = trainedTensors();
    const wrongSize = tensors.map((t) => (t.name === 'out.bias' ? { ...t, shape: [3] } : t));
    await untouchedBy((t) => loadCheckpoint(t, handBuilt(wrongSize)), /tensor 'out\.bias': data_offsets \[\d+, \d+\] hold 8 bytes, but F32 \[3\] needs 12/);
    const nan = tensors.map((t) => (t.name === 'out.bias' ? { ...t, bytes: f32Bytes([0, NaN]) } : t));
    await untouchedBy((t) => loadCheckpoint(t, handBuilt(nan)), /tensor 'out\.bias' element 1 is NaN/);
    const notJson = file.slice();
    notJson[8] = 0x5b; // '[' where '{' was
    await untouchedBy((t) => loadCheckpoint(t, notJson), /header is not (valid UTF-8 JSON|a JSON object)/);
    const trailing = new Uint8Array(file.length + 4);
    trailing.set(file);
    await untouchedBy((t) => loadCheckpoint(t, trailing), /cover \d+ of \d+ data bytes; the file has trailing bytes/);
  });

  it('a checkpoint of another spec loads when the tensors fit, and says so', async () => {
    const other = await loadTrainer((await compileToWasm({ ...spec, optimizer: { type: 'sgd', learningRate: 0.1 } })).wasm);
    const info = await loadCheckpoint(other, file);
    expect(info.sameSpec).toBe(false);
    expect(weightBytes(other)).toEqual(weightBytes(trained));
  });

  it('optimizer state buffers a manifest lists (buffers.state) are saved as optimizer.<name> and restored', async () => {
    // No optimizer has state yet: give a trainer a manifest that lists one buffer, placed over
    // the gradient buffer of out.weight (scratch memory, rewritten by every gradients call).
    const withState = async (): Promise<Trainer> => {
      const t = await loadTrainer(wasm);
      const grad = t.manifest.buffers.grads.find((g) => g.name === 'out.weight')!;
      const manifest = { ...t.manifest, buffers: { ...t.manifest.buffers, state: [...t.manifest.buffers.state, { name: 'out.weight.velocity', offset: grad.offset, bytes: grad.bytes }] } };
      return Object.assign(Object.create(Object.getPrototypeOf(t) as object) as Trainer, t, { manifest });
    };
    const source = await withState();
    source.views.grads['out.weight']!.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const bytes = await saveCheckpoint(source, { step: 3 });
    const stored = decodeSafetensors(bytes).tensors.get('optimizer.out.weight.velocity')!;
    expect(stored.shape).toEqual([10]);
    const target = await withState();
    await loadCheckpoint(target, bytes);
    expect(Array.from(target.views.grads['out.weight']!)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // A weights-only file (as other tools write) starts the optimizer afresh; a partial state is refused.
    expect((await loadCheckpoint(target, await saveCheckpoint(trained))).optimizerState).toBe('reset');
    expect(Array.from(target.views.grads['out.weight']!)).toEqual(new Array(10).fill(0));
    const partial = decodeSafetensors(bytes);
    const tensors = new Map([...partial.tensors].map(([name, t]) => [name === 'optimizer.out.weight.velocity' ? 'optimizer.other' : name, t]));
    await expect(loadCheckpoint(target, encodeSafetensors(tensors))).rejects.toThrow(/optimizer state 'optimizer\.out\.weight\.velocity' is missing from the file/);
  });

  it('the spec hash does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 'x' }] })).toBe('{"a":[{"c":"x","d":2}],"b":1}');
  });

  it('the Node adapter writes atomically and reads back', async () => {
    const path = join(dir, 'model.safetensors');
    await saveCheckpointFile(path, trained, { step: 6 });
    expect(new Uint8Array(readFileSync(path))).toEqual(file);
    const fresh = await loadTrainer(wasm);
    expect((await loadCheckpointFile(path, fresh)).step).toBe(6);
    expect(weightBytes(fresh)).toEqual(weightBytes(trained));
    // A write that fails leaves the old file and no temporary file behind.
    writeFileSync(join(dir, 'keep.safetensors'), file);
    await expect(saveCheckpointFile(join(dir, 'missing', 'x.safetensors'), trained)).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir).sort()).toEqual(['keep.safetensors', 'model.safetensors']);
  });
});
