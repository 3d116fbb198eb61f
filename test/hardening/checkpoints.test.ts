// Checkpoints: the data section carries a SHA-256 in the metadata, checked on load, so a flipped
// byte is refused and the trainer untouched; the step is decimal digits only; concurrent saves to
// one path never collide (temp names with a random suffix); temp files of killed saves are
// removed by the next save.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileToWasm } from '../../compiler/compile.ts';
import { DATA_HASH, loadCheckpoint, saveCheckpoint } from '../../runtime/checkpoint.ts';
import { loadCheckpointFile, saveCheckpointFile } from '../../runtime/node.ts';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from '../../runtime/safetensors.ts';
import { loadTrainer, type Trainer } from '../../runtime/trainer.ts';
import { FUZZ_SEED, fuzzRuns, snapshot } from './fuzz.ts';

const spec = {
  name: 'checkpoints',
  input: { shape: [3] },
  layers: [
    { type: 'dense', name: 'hidden', units: 4, activation: 'relu' },
    { type: 'dense', name: 'out', units: 2, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  optimizer: { type: 'adam', learningRate: 0.05 },
  batchSize: 4,
};
const x = [
  [0.1, 0.2, 0.3],
  [0.4, 0.5, 0.6],
];

describe('checkpoints', () => {
  let wasm: Uint8Array;
  let trained: Trainer;
  let bytes: Uint8Array;
  let dir: string;
  beforeAll(async () => {
    wasm = (await compileToWasm(spec, { simd: 'baseline' })).wasm;
    trained = await loadTrainer(wasm);
    for (let i = 0; i < 3; i++) trained.trainStep(x, [0, 1]);
    bytes = await saveCheckpoint(trained, { step: 3 });
    dir = mkdtempSync(join(tmpdir(), 'nabla-ckpt-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('carries the SHA-256 of its data section', () => {
    expect(decodeSafetensors(bytes).metadata[DATA_HASH]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a flipped data byte is refused and the trainer untouched (it loaded silently)', async () => {
    const target = await loadTrainer(wasm);
    const before = snapshot(target);
    const damaged = bytes.slice();
    damaged[damaged.length - 3]! ^= 0x01; // a mantissa bit of the last value: still finite
    await expect(loadCheckpoint(target, damaged)).rejects.toThrow(SafetensorsError);
    await expect(loadCheckpoint(target, damaged)).rejects.toThrow(/the data section's SHA-256 is [0-9a-f]{64}, but __metadata__\.data_sha256 says [0-9a-f]{64}: the file is damaged/);
    expect(snapshot(target)).toEqual(before);
  });

  it.each([[''], ['0x10'], ['1e3'], ['-1'], [' 5'], ['05'], ['9007199254740993']])('a step of %j is refused (was read as a number)', async (step) => {
    const file = decodeSafetensors(bytes);
    const edited = encodeSafetensors(file.tensors, { ...file.metadata, step });
    const target = await loadTrainer(wasm);
    const before = snapshot(target);
    await expect(loadCheckpoint(target, edited)).rejects.toThrow(/__metadata__\.step is .*, not a step count/);
    expect(snapshot(target)).toEqual(before);
  });

  it('fuzz: any flipped bit anywhere is refused with SafetensorsError, or loads exactly the saved weights', async () => {
    const target = await loadTrainer(wasm);
    const saved = snapshot(trained);
    const outcomes = { refused: 0, loadedIdentical: 0 };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 0, max: 7 }), async (at, bit) => {
        target.init();
        const before = snapshot(target);
        const damaged = bytes.slice();
        damaged[at]! ^= 1 << bit;
        try {
          await loadCheckpoint(target, damaged);
        } catch (err) {
          expect(err).toBeInstanceOf(SafetensorsError);
          expect(snapshot(target)).toEqual(before);
          outcomes.refused++;
          return;
        }
        // Only a header change the format cannot see (a name in the metadata) can load, and then the data is intact.
        expect(snapshot(target).weights).toEqual(saved.weights);
        expect(snapshot(target).state).toEqual(saved.state);
        outcomes.loadedIdentical++;
      }),
      { numRuns: fuzzRuns(300), seed: FUZZ_SEED },
    );
    console.info(`checkpoint bit-flip fuzz: ${outcomes.refused + outcomes.loadedIdentical} cases, ${outcomes.refused} refused with SafetensorsError (trainer unchanged), ${outcomes.loadedIdentical} loaded with data identical to the saved`);
  });

  it('concurrent saves to one path all succeed and leave one good file (15 % failed with ENOENT on rename)', async () => {
    const path = join(dir, 'busy.safetensors');
    const results = await Promise.allSettled(Array.from({ length: 64 }, (_, i) => saveCheckpointFile(path, trained, { step: i })));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(readdirSync(dir).filter((n) => n.includes('busy'))).toEqual(['busy.safetensors']);
    const fresh = await loadTrainer(wasm);
    await loadCheckpointFile(path, fresh);
    expect(snapshot(fresh).weights).toEqual(snapshot(trained).weights);
  });

  it('removes temp files of killed saves to the same path, and nothing else', async () => {
    const path = join(dir, 'model.safetensors');
    const deadPid = 99_999_999; // above any pid_max: no such process
    const stale = [`.model.safetensors.${deadPid}.00ff00ff00ff00ff.tmp`, `.model.safetensors.${process.pid}.0123456789abcdef.tmp`];
    const kept = ['.model.safetensors.notes', `.other.safetensors.${deadPid}.00ff00ff00ff00ff.tmp`];
    for (const name of [...stale, ...kept]) writeFileSync(join(dir, name), 'partial');
    await saveCheckpointFile(path, trained, { step: 3 });
    const names = readdirSync(dir);
    for (const name of stale) expect(names).not.toContain(name);
    for (const name of kept) expect(names).toContain(name);
    expect(new Uint8Array(readFileSync(path))).toEqual(bytes);
  });
});
