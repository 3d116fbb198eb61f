// Acceptance 1 of issue #6: one .wasm, compiled once here, trained 20 steps from the same seed on
// the same batches in Node 20, Node 22, Deno, Bun, workerd and Chromium, gives bit-identical
// weights (and losses). Every host runs the same esbuild bundle of job.ts + runtime/.
// A runtime that is not installed is skipped with a message, except under CI=true.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileToWasm } from '../../compiler/compile.ts';
import { chromiumAvailable } from '../support/chromium.ts';
import { buildJobDir } from './build.ts';
import { BINARIES, ENGINES_INSTALL, installed, runBun, runChromium, runDeno, runNode, runWorkerd } from './hosts.ts';
import { CROSS_RUNTIME_SPEC, JOB_SEED, STEPS, toHex, trainJob } from './job.ts';
import { loadTrainer } from '../../runtime/trainer.ts';

interface Host {
  readonly name: string;
  readonly available: boolean;
  readonly install: string;
  run(dir: string): Promise<string>;
}

const HOSTS: readonly Host[] = [
  { name: `node ${process.version} (child process, bundled runtime)`, available: true, install: '', run: (dir) => runNode(process.execPath, dir) },
  { name: 'node 22', available: installed(BINARIES.node22), install: ENGINES_INSTALL, run: (dir) => runNode(BINARIES.node22, dir) },
  { name: 'deno', available: installed(BINARIES.deno), install: ENGINES_INSTALL, run: runDeno },
  { name: 'bun', available: installed(BINARIES.bun), install: ENGINES_INSTALL, run: runBun },
  { name: 'workerd', available: installed(BINARIES.workerd), install: ENGINES_INSTALL, run: runWorkerd },
  {
    name: 'chromium',
    available: chromiumAvailable(),
    install: 'apt-get install chromium (Debian), see .ci/run',
    run: runChromium,
  },
];

const inCi = process.env.CI === 'true';

describe('the same trainer in six hosts gives bit-identical weights', () => {
  let dir: string;
  let reference: string;
  let weightBytes: number;
  let wasm: Uint8Array<ArrayBuffer>;

  beforeAll(async () => {
    const compiled = await compileToWasm(CROSS_RUNTIME_SPEC);
    const manifest = compiled.manifest;
    wasm = compiled.wasm;
    dir = mkdtempSync(join(tmpdir(), 'nabla-runtimes-'));
    await buildJobDir(dir, wasm);
    // The reference: this vitest process, running the runtime from source.
    reference = toHex(await trainJob(wasm));
    weightBytes = manifest.buffers.params.reduce((s, p) => s + p.bytes, 0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the reference run trained: finite weights that moved from their initial values, 20 losses', async () => {
    const values = new Float32Array(Uint8Array.from(reference.match(/../g)!, (h) => parseInt(h, 16)).buffer);
    expect(values.every(Number.isFinite)).toBe(true);
    expect(values.length - weightBytes / 4).toBe(STEPS);
    const trainer = await loadTrainer(wasm, { simd: 'baseline' });
    trainer.init(JOB_SEED);
    const initial = new Float32Array(Object.values(trainer.getWeights()).flatMap((t) => Array.from(t.data)));
    expect(initial).toHaveLength(weightBytes / 4);
    expect(Array.from(values.slice(0, weightBytes / 4))).not.toEqual(Array.from(initial));
  });

  for (const host of HOSTS) {
    const skip = !host.available && !inCi;
    if (skip) console.warn(`cross-runtime test: ${host.name} is not installed, skipped (install: ${host.install}); under CI=true it is required`);
    it.skipIf(skip)(`${host.name}: weights and losses bit-identical to the reference`, async () => {
      const hex = await host.run(dir);
      expect(hex.length).toBe(reference.length);
      expect(hex).toBe(reference);
    });
  }
});
