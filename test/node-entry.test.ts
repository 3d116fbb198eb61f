// `nabla/node`: spec files in, with errors that name the file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileFile, compileFileToWasm, readSpecFile } from '../compiler/node.ts';
import { SpecError } from '../compiler/model/spec_error.ts';
import { compileToWasm } from '../compiler/compile.ts';

const dir = mkdtempSync(join(tmpdir(), 'nabla-node-entry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = new URL('../examples/seed/model.json', import.meta.url).pathname;

describe('nabla/node', () => {
  it('compileFile compiles a spec file to a trainer that trains', async () => {
    const trainer = await compileFile(seed);
    const spec = (await readSpecFile(seed)) as { batchSize: number };
    const x = Array.from({ length: spec.batchSize }, () => [0.5, 0.2]);
    const y = Array.from({ length: spec.batchSize }, () => [1]);
    const first = trainer.trainStep(x, y);
    for (let i = 0; i < 50; i++) trainer.trainStep(x, y);
    expect(trainer.trainStep(x, y)).toBeLessThan(first);
  });

  it('compileFileToWasm gives the bytes compileToWasm gives', async () => {
    const { wasm, manifest } = await compileFileToWasm(seed, { simd: 'baseline' });
    expect(manifest.simd).toBe('baseline');
    const direct = await compileToWasm(await readSpecFile(seed), { simd: 'baseline' });
    expect(Buffer.from(wasm).equals(Buffer.from(direct.wasm))).toBe(true);
  });

  it('a file that is not JSON is a SpecError naming the file', async () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ "layers": [');
    await expect(readSpecFile(path)).rejects.toThrow(SpecError);
    await expect(compileFile(path)).rejects.toThrow(`${path}: invalid JSON`);
  });

  it("a bad spec's error names the file and the field", async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ input: { shape: [2] }, layers: [{ type: 'dense', units: -1 }], loss: { type: 'mse' } }));
    const error = await compileFile(path).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SpecError);
    expect((error as Error).message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*units`, 's'));
  });
});
