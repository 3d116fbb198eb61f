// Packaging: the published `nabla/runtime` is plain JavaScript built from runtime/ to
// dist/runtime/ (`npm run build`, also run by prepack), with declarations, an import graph that
// never leaves dist/runtime (so no compiler), and no Node module except in the Node adapter.
// The same build is also packed alone as `nabla-runtime` (`npm run pack:runtime`), a package with
// no dependencies, for users who ship a prebuilt .wasm.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileToWasm } from '../compiler/compile.ts';
import { packRuntime } from '../runtime/package/pack.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist/runtime');
const run = promisify(execFile);

/** Module specifiers imported or re-exported by an emitted .js file. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(dist, file), 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

describe('the npm package', () => {
  let consumer: string;
  let wasm: Uint8Array;

  /** A script that trains `model.wasm` one step with the runtime imported from `from`, and saves a checkpoint. */
  const trainingScript = (from: string): string => `import { readFile } from 'node:fs/promises';
import { loadTrainer, saveCheckpoint } from '${from}';
const trainer = await loadTrainer(await readFile(new URL('./model.wasm', import.meta.url)));
const loss = trainer.trainStep([[1, 2], [3, 4]], [[1], [0]]);
const bytes = await saveCheckpoint(trainer, { step: 1 });
console.log(JSON.stringify({ loss, bytes: bytes.length }));
`;

  async function trainIn(dir: string, from: string): Promise<void> {
    writeFileSync(join(dir, 'model.wasm'), wasm);
    writeFileSync(join(dir, 'main.mjs'), trainingScript(from));
    const { stdout } = await run(process.execPath, [join(dir, 'main.mjs')], { cwd: dir });
    const result = JSON.parse(stdout) as { loss: number; bytes: number };
    expect(result.loss).toBeGreaterThan(0);
    expect(result.bytes).toBeGreaterThan(8);
  }

  beforeAll(async () => {
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root });
    consumer = mkdtempSync(join(tmpdir(), 'nabla-consumer-'));
    mkdirSync(join(consumer, 'node_modules'));
    symlinkSync(root, join(consumer, 'node_modules', 'nabla'), 'dir');
    ({ wasm } = await compileToWasm({
      input: { shape: [2] },
      layers: [{ type: 'dense', units: 1, activation: 'sigmoid' }],
      loss: { type: 'binary_crossentropy' },
      batchSize: 2,
    }));
  });
  afterAll(() => rmSync(consumer, { recursive: true, force: true }));

  it('the runtime imports nothing outside dist/runtime, and only the Node adapter uses Node modules', () => {
    const files = readdirSync(dist).filter((f) => f.endsWith('.js'));
    expect(files).toContain('index.js');
    for (const file of files) {
      for (const spec of importsOf(file)) {
        if (file === 'node.js' && spec.startsWith('node:')) continue;
        expect(spec, `${file} imports ${spec}`).toMatch(/^\.\/[a-z_]+\.js$/);
      }
      expect(readFileSync(join(dist, file.replace(/\.js$/, '.d.ts')), 'utf8').length).toBeGreaterThan(0);
    }
  });

  it('npm pack ships the built runtime and the sources, not the tests', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
    const paths = (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['dist/runtime/index.js', 'dist/runtime/index.d.ts', 'dist/runtime/node.js', 'runtime/trainer.ts', 'compiler/index.ts', 'bin/nabla.mjs']));
    expect(paths.filter((p) => p.startsWith('test/'))).toEqual([]);
  });

  it("'nabla/runtime' trains a prebuilt .wasm in plain Node, with no TypeScript loader", async () => {
    await trainIn(consumer, 'nabla/runtime');
  });

  it("'nabla-runtime' packs alone with no dependencies, installs offline, and trains", async () => {
    const work = mkdtempSync(join(tmpdir(), 'nabla-runtime-consumer-'));
    try {
      const tarball = packRuntime(work);
      const app = join(work, 'app');
      mkdirSync(app);
      writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
      await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: app });
      // Only the runtime arrived: no compiler, no transitive dependency.
      expect(readdirSync(join(app, 'node_modules')).filter((d) => !d.startsWith('.'))).toEqual(['nabla-runtime']);
      const installed = JSON.parse(readFileSync(join(app, 'node_modules/nabla-runtime/package.json'), 'utf8')) as Record<string, unknown>;
      expect(installed['dependencies']).toBeUndefined();
      expect(installed['version']).toBe((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
      await trainIn(app, 'nabla-runtime');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
