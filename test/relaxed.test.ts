// The relaxed-SIMD build rides inside the baseline trainer and gives the same numbers within
// float32 rounding. Node 20 validates relaxed SIMD only behind a flag, so both builds are run
// in a child process with it, through nothing but the raw ABI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIRECT_ROWS } from '../compiler/codegen/gemm.ts';
import { compileToWasm } from '../compiler/compile.ts';
import { relativeDifference } from '../compiler/gradcheck/numerical.ts';
import { RELAXED_SECTION } from '../runtime/manifest.ts';
import { loadTrainer } from '../runtime/trainer.ts';

const spec = {
  input: { shape: [37] },
  layers: [
    { type: 'dense', units: 45, activation: 'relu' },
    { type: 'dense', units: 20, activation: 'tanh' },
    { type: 'dense', units: 6, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  batchSize: 29,
};

// Runs `gradients(n)` of each .wasm on the same seeded data, on the full batch and on FEW_ROWS
// rows (below DIRECT_ROWS: the forward products' direct form); prints losses and gradients as JSON.
const runner = `
import { readFileSync } from 'node:fs';
const out = [];
for (const file of process.argv.slice(1)) {
  const module = await WebAssembly.compile(readFileSync(file));
  const m = JSON.parse(new TextDecoder().decode(WebAssembly.Module.customSections(module, 'nabla.manifest')[0]));
  const { exports } = await WebAssembly.instantiate(module, {});
  exports.init(m.seed);
  const f32 = (p) => new Float32Array(exports.memory.buffer, p.offset, p.bytes / 4);
  const x = f32(m.buffers.input);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.7) * 1.3;
  const labels = new Int32Array(exports.memory.buffer, m.buffers.labels.offset, m.batchSize);
  for (let i = 0; i < labels.length; i++) labels[i] = (i * 5) % 6;
  for (const n of [m.batchSize, Number(process.env.FEW_ROWS)]) {
    const loss = exports.gradients(n);
    out.push({ simd: m.simd, n, loss, grads: m.buffers.grads.map((g) => Array.from(f32(g))) });
  }
}
console.log(JSON.stringify(out));
`;

describe('relaxed-SIMD build', () => {
  it('is embedded in the baseline trainer, picked only where valid, and agrees within float32 rounding', async () => {
    const { wasm } = await compileToWasm(spec);
    const module = new WebAssembly.Module(wasm);
    const [relaxed] = WebAssembly.Module.customSections(module, RELAXED_SECTION);
    expect(relaxed).toBeDefined();

    const here = WebAssembly.validate(relaxed!);
    expect((await loadTrainer(wasm)).manifest.simd).toBe(here ? 'relaxed' : 'baseline');
    expect((await loadTrainer(module, { simd: 'baseline' })).manifest.simd).toBe('baseline');

    const dir = mkdtempSync(join(tmpdir(), 'nabla-relaxed-'));
    writeFileSync(join(dir, 'baseline.wasm'), wasm);
    writeFileSync(join(dir, 'relaxed.wasm'), new Uint8Array(relaxed!));
    const flags = here ? [] : ['--experimental-wasm-relaxed-simd'];
    const env = { ...process.env, FEW_ROWS: String(DIRECT_ROWS - 3) };
    const text = execFileSync(process.execPath, [...flags, '--input-type=module', '-e', runner, join(dir, 'baseline.wasm'), join(dir, 'relaxed.wasm')], { encoding: 'utf8', env });
    const runs = JSON.parse(text) as { simd: string; n: number; loss: number; grads: number[][] }[];
    expect(runs.map((r) => `${r.simd} ${r.n}`)).toEqual([`baseline ${spec.batchSize}`, `baseline ${DIRECT_ROWS - 3}`, `relaxed ${spec.batchSize}`, `relaxed ${DIRECT_ROWS - 3}`]);
    for (const [base, fast] of [[runs[0]!, runs[2]!], [runs[1]!, runs[3]!]] as const) {
      expect(Math.abs(base.loss - fast.loss) / Math.abs(base.loss)).toBeLessThan(1e-5);
      base.grads.forEach((g, k) => expect(relativeDifference(fast.grads[k]!, g), `gradient ${k} on ${base.n} rows`).toBeLessThan(1e-5));
    }
  });
});
