// loadTrainer checks the manifest against the module before anything runs: batch size, every
// buffer's size and place in memory, host buffers disjoint, the ABI's exports present, no
// imports, the relaxed-SIMD build bound to the baseline by its hash. A tampered file is a
// ManifestError saying what is wrong, never a raw RangeError, a hang or silently wrong results.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { appendCustomSection } from '../../compiler/codegen/section.ts';
import { compileToWasm } from '../../compiler/compile.ts';
import { InputError } from '../../runtime/errors.ts';
import { NonFiniteError } from '../../runtime/guard.ts';
import { MANIFEST_SECTION, ManifestError, RELAXED_SECTION, type Manifest } from '../../runtime/manifest.ts';
import { loadTrainer } from '../../runtime/trainer.ts';
import { FUZZ_SEED, fuzzRuns } from './fuzz.ts';

const spec = (name: string, units: number): object => ({
  name,
  input: { shape: [3] },
  layers: [
    { type: 'dense', name: 'hidden', units, activation: 'relu' },
    { type: 'dense', name: 'out', units: 2, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  optimizer: { type: 'adam' },
  batchSize: 4,
});

function readLeb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(byte & 0x80)) return [value, at];
  }
}

/** The module's bytes without the custom sections named `names`. */
function withoutSections(wasm: Uint8Array, names: readonly string[]): Uint8Array {
  const parts: Uint8Array[] = [wasm.subarray(0, 8)];
  let at = 8;
  while (at < wasm.length) {
    const start = at;
    const id = wasm[at++]!;
    const [size, body] = readLeb(wasm, at);
    const end = body + size;
    let drop = false;
    if (id === 0) {
      const [length, nameAt] = readLeb(wasm, body);
      drop = names.includes(new TextDecoder().decode(wasm.subarray(nameAt, nameAt + length)));
    }
    if (!drop) parts.push(wasm.subarray(start, end));
    at = end;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** The module with its manifest replaced by `edit(manifest)`. */
function withManifest(wasm: Uint8Array, edit: (m: Manifest) => unknown): Uint8Array {
  const section = WebAssembly.Module.customSections(new WebAssembly.Module(wasm as BufferSource), MANIFEST_SECTION)[0]!;
  const manifest = JSON.parse(new TextDecoder().decode(section)) as Manifest;
  const clone = structuredClone(manifest);
  const edited = edit(clone) ?? clone;
  const relaxed = WebAssembly.Module.customSections(new WebAssembly.Module(wasm as BufferSource), RELAXED_SECTION)[0];
  let out = appendCustomSection(withoutSections(wasm, [MANIFEST_SECTION, RELAXED_SECTION]), MANIFEST_SECTION, new TextEncoder().encode(JSON.stringify(edited)));
  if (relaxed) out = appendCustomSection(out, RELAXED_SECTION, new Uint8Array(relaxed));
  return out;
}

type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };

describe('loadTrainer verifies the artifact', () => {
  let wasm: Uint8Array;
  let other: Uint8Array;
  let manifest: Manifest;
  beforeAll(async () => {
    const compiled = await compileToWasm(spec('artifact', 4));
    wasm = compiled.wasm;
    manifest = compiled.manifest;
    other = (await compileToWasm(spec('other', 5))).wasm;
  });

  it('the untouched trainer loads, and its manifest binds the relaxed build by hash', async () => {
    expect(manifest.relaxedSha256).toMatch(/^[0-9a-f]{64}$/);
    const trainer = await loadTrainer(wasm);
    expect(trainer.predict([[1, 2, 3]]).shape).toEqual([1, 2]);
  });

  const tampered: [string, (m: Mutable<Manifest>) => void, RegExp][] = [
    ['batchSize 0 (predict looped for ever)', (m) => void (m.batchSize = 0), /batchSize 0 is not an integer in \[1, 65536\]/],
    ['batchSize 2.5', (m) => void (m.batchSize = 2.5), /batchSize 2\.5 is not an integer/],
    ['a parameter past the end of memory', (m) => void (m.buffers.params[0]!.offset = 1e9), /buffers\.params\[0\] \('hidden\.weight'\) \[1000000000, \d+\) runs past the end of the \d+-byte memory/],
    ['an input aliased onto a parameter', (m) => void (m.buffers.inputs[0]!.offset = m.buffers.input.offset = m.buffers.params[0]!.offset), /overlap/],
    ['a prediction buffer of the wrong size', (m) => void (m.buffers.predictions[0]!.bytes += 4), /buffers\.predictions\[0\] \('out'\) has 36 bytes, expected 32/],
    ['an unaligned offset', (m) => void (m.buffers.grads[0]!.offset += 2), /buffers\.grads\[0\] .*multiples of 4/],
    ['a gradient of no parameter', (m) => void (m.buffers.grads[0]!.name = 'nope'), /buffers\.grads\[0\] names 'nope', which is not a parameter/],
    ['a negative offset', (m) => void (m.buffers.state[0]!.offset = -16), /buffers\.state\[0\] .*must be non-negative integers/],
    ['a parameter shape that disagrees with its buffer', (m) => void (m.params[0]!.shape = [5, 3]), /buffers\.params\[0\] \('hidden\.weight'\) has 48 bytes, expected 60/],
    ['an input shape without the batch dimension', (m) => void (m.inputs[0]!.shape = [3]), /inputs\[0\]\.shape \[3\] does not start with the batch dimension "N"/],
    ['buffers missing', (m) => void delete (m as { buffers?: unknown }).buffers, /buffers is missing/],
    ['the relaxed build bound to another hash', (m) => void (m.relaxedSha256 = '0'.repeat(64)), /relaxed-SIMD build .* has SHA-256 [0-9a-f]{64}, but the manifest's relaxedSha256 is 0{64}: the file was altered/],
  ];
  it.each(tampered)('refuses %s with a ManifestError', async (_name, edit, message) => {
    const error = await loadTrainer(withManifest(wasm, edit as (m: Manifest) => void)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as Error).message).toMatch(message);
  });

  it("refuses another model's relaxed build under this manifest (hash, and without a hash, the manifests)", async () => {
    const otherRelaxed = new Uint8Array(WebAssembly.Module.customSections(new WebAssembly.Module(other as BufferSource), RELAXED_SECTION)[0]!);
    const swapped = appendCustomSection(withoutSections(wasm, [RELAXED_SECTION]), RELAXED_SECTION, otherRelaxed);
    await expect(loadTrainer(swapped)).rejects.toThrow(/relaxed-SIMD build .* the file was altered/);
    const unhashed = appendCustomSection(
      withoutSections(withManifest(wasm, (m) => ({ ...m, relaxedSha256: undefined })), [RELAXED_SECTION]),
      RELAXED_SECTION,
      otherRelaxed,
    );
    if (WebAssembly.validate(otherRelaxed)) await expect(loadTrainer(unhashed)).rejects.toThrow(/carries a different manifest from the baseline build: it is not the same model/);
  });

  it('refuses a module that imports something, or lacks the ABI exports', async () => {
    const section = WebAssembly.Module.customSections(new WebAssembly.Module(wasm as BufferSource), MANIFEST_SECTION)[0]!;
    // (module (import "env" "abort" (func)))
    const importing = Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 2, 13, 1, 3, 0x65, 0x6e, 0x76, 5, 0x61, 0x62, 0x6f, 0x72, 0x74, 0, 0);
    await expect(loadTrainer(appendCustomSection(importing, MANIFEST_SECTION, new Uint8Array(section)))).rejects.toThrow(/the module imports env\.abort \(function\); a nabla trainer imports nothing/);
    const empty = Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0);
    await expect(loadTrainer(appendCustomSection(empty, MANIFEST_SECTION, new Uint8Array(section)))).rejects.toThrow(ManifestError);
    await expect(loadTrainer(appendCustomSection(empty, MANIFEST_SECTION, new Uint8Array(section)))).rejects.toThrow(/does not export its memory as 'memory'/);
  });

  it('fuzz: any number of the manifest replaced loads or is a ManifestError; a loaded trainer never fails with a raw error', async () => {
    const baseline = (await compileToWasm(spec('artifact', 4), { simd: 'baseline' })).wasm;
    const paths: (string | number)[][] = [];
    const walk = (value: unknown, path: (string | number)[]): void => {
      if (typeof value === 'number' && path[0] !== 'spec' && path[0] !== 'optimizer' && path[0] !== 'loss' && path[0] !== 'outputs') paths.push(path);
      else if (typeof value === 'object' && value !== null && path[0] !== 'spec') for (const [k, v] of Object.entries(value)) walk(v, [...path, Array.isArray(value) ? Number(k) : k]);
    };
    walk(manifest, []);
    const outcomes = { loaded: 0, refused: 0, failedNamed: 0 };
    const replacement = fc.oneof(fc.constantFrom(-1, 0, 1, 2.5, 4, 64, 1e9, 2 ** 32, null, '8'), fc.integer({ min: 0, max: 200_000 }).map((v) => v * 4));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: paths.length - 1 }), replacement, async (k, value) => {
        const path = paths[k]!;
        const bytes = withManifest(baseline, (m) => {
          let at: Record<string | number, unknown> = m as never;
          for (const key of path.slice(0, -1)) at = at[key] as never;
          at[path.at(-1)!] = value;
        });
        let trainer;
        try {
          trainer = await loadTrainer(bytes);
        } catch (err) {
          expect(err, `${path.join('.')} = ${String(value)}`).toBeInstanceOf(ManifestError);
          outcomes.refused++;
          return;
        }
        outcomes.loaded++;
        // Whatever loaded runs, or fails with a named error: never a raw error or a hang. (An edit
        // that keeps the manifest self-consistent, such as moving the guard block to other free
        // bytes, cannot be told from the real layout: the guard then misreads its status word.)
        try {
          trainer.predict([[1, 2, 3]]);
          trainer.trainStep([[1, 2, 3]], [1]);
        } catch (err) {
          expect([InputError, ManifestError, NonFiniteError].some((E) => err instanceof E), `${path.join('.')} = ${String(value)}: ${String(err)}`).toBe(true);
          outcomes.failedNamed++;
        }
      }),
      { numRuns: fuzzRuns(150), seed: FUZZ_SEED },
    );
    console.info(`manifest fuzz: ${outcomes.loaded + outcomes.refused} cases over ${paths.length} numeric fields, ${outcomes.refused} refused with ManifestError, ${outcomes.loaded} loaded (${outcomes.failedNamed} of them then failed with a named error)`);
  });
});
