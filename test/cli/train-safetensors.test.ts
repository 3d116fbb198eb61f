// `nabla train --save out.safetensors` writes a checkpoint that `--weights` reads back.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { train } from '../../compiler/cli/train.ts';
import { decodeSafetensors } from '../../runtime/safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'nabla-cli-'));
const model = 'examples/iris/model.json';
const data = 'examples/iris/iris.csv';

describe('nabla train with safetensors', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--save writes the trained weights and the step count; --weights reads them back', async () => {
    const saved = join(dir, 'iris.safetensors');
    const first = await train({ spec: model, data, epochs: 2, save: saved });
    const file = decodeSafetensors(new Uint8Array(readFileSync(saved)));
    expect([...file.tensors.keys()]).toEqual([...first.trainer.manifest.params.map((p) => p.name), 'optimizer.optimizer:learning_rate']);
    expect(JSON.parse(file.metadata.nabla_preprocessing!)).toMatchObject({ features: 4, classNames: ['setosa', 'versicolor', 'virginica'], split: { seed: 42, testFraction: 0.2, rows: 150 } });
    // 120 training rows, batch 16: 8 steps an epoch.
    expect(file.metadata.step).toBe(String(2 * Math.ceil(120 / first.trainer.manifest.batchSize)));
    for (const [name, t] of Object.entries(first.trainer.getWeights())) {
      expect(new Float32Array(file.tensors.get(name)!.data.slice().buffer)).toEqual(t.data);
    }
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const resumed = await train({ spec: model, data, epochs: 1, weights: saved }, io);
    expect(lines).toContain(`weights   from ${saved}`);
    // Starting from the saved weights, one epoch does better on the test set than one epoch from scratch.
    const scratch = await train({ spec: model, data, epochs: 1 });
    expect(resumed.test!.loss).toBeLessThan(scratch.test!.loss);
  });

  it('a damaged file is refused with its name, before training', async () => {
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, new Uint8Array([1, 2, 3]));
    await expect(train({ spec: model, data, weights: bad })).rejects.toThrow(`${bad}: safetensors: 3 bytes is too short for the 8-byte header length`);
  });
});
