// The npm package as users get it: `npm pack`, `npm install --offline` of the tarball into an empty
// project (one pack and install for the whole file), then `nabla` used there the ways the README
// says — plain `node`, TypeScript (nodenext, strict), Deno, Bun, a browser page and a Web Worker
// (bundled by esbuild, run in headless Chromium), the `nabla` command — and the runtime packed
// alone as `nabla-runtime`. Every host compiles and trains the same model (test/package/job.mjs)
// and must give the same .wasm and bit-identical weights (baseline SIMD build).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileToWasm } from '../compiler/compile.ts';
import { packRuntime } from '../runtime/package/pack.ts';
import { chromiumAvailable, withChromium } from './support/chromium.ts';
import { serveStatic } from '../examples/browser/serve.ts';
import { BINARIES, ENGINES_INSTALL, installed } from './runtimes/hosts.ts';
import { buildDist, bundlePage, packAndInstall, ROOT, type Installed, type JobReport } from './package/install.ts';

const run = promisify(execFile);
const TIMEOUT_MS = 240_000;
/** Build, pack, install and the first run: about 2 minutes on a loaded 2-core machine. */
const SETUP_TIMEOUT_MS = 480_000;
const inCi = process.env.CI === 'true';

/** Module specifiers an emitted .js file imports, re-exports or imports dynamically. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const statics = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
  const dynamics = [...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
  return [...statics, ...dynamics];
}

/** Every module reachable from `entry` through relative imports, and the bare specifiers they import. */
function importGraph(entry: string): { files: Set<string>; bare: Set<string> } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) pending.push(join(file, '..', spec));
      else bare.add(spec);
    }
  }
  return { files, bare };
}

/** A runtime that is missing is skipped with a message, except under CI=true, where it fails. */
function host(name: string, binary: string): typeof it | typeof it.skip {
  if (installed(binary) || inCi) return it;
  console.warn(`${name} is not installed: its package test is skipped (${ENGINES_INSTALL})`);
  return it.skip;
}

function expectLossFell(report: JobReport): void {
  const mean = (xs: number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;
  expect(report.losses).toHaveLength(60);
  expect(report.losses.every(Number.isFinite)).toBe(true);
  expect(mean(report.losses.slice(-6))).toBeLessThan(0.5 * mean(report.losses.slice(0, 6)));
}

describe('the packed nabla package, installed into an empty project', () => {
  let installation: Installed;
  let app: string;
  let node: JobReport;

  beforeAll(async () => {
    installation = await packAndInstall();
    app = installation.app;
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: app, timeout: TIMEOUT_MS });
    node = JSON.parse(stdout) as JobReport;
  }, SETUP_TIMEOUT_MS);
  afterAll(() => installation && rmSync(installation.work, { recursive: true, force: true }));

  it('the tarball ships built JavaScript with declarations and no TypeScript sources, tests or tsx', () => {
    const pkg = join(app, 'node_modules/nabla');
    for (const file of ['dist/compiler/index.js', 'dist/compiler/index.d.ts', 'dist/compiler/node.js', 'dist/runtime/index.js', 'dist/runtime/node.d.ts', 'bin/nabla.mjs']) {
      expect(existsSync(join(pkg, file)), file).toBe(true);
    }
    for (const dir of ['compiler', 'runtime', 'assembly', 'test']) expect(existsSync(join(pkg, dir)), dir).toBe(false);
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).not.toContain('tsx');
    expect(existsSync(join(app, 'node_modules/tsx'))).toBe(false);
  });

  it("the main entry's import graph has no Node module, and AssemblyScript only as a dynamic import", () => {
    const dist = join(app, 'node_modules/nabla/dist');
    const { files, bare } = importGraph(join(dist, 'compiler/index.js'));
    expect(files.size).toBeGreaterThan(50);
    expect([...bare].filter((s) => s.startsWith('node:') || ['fs', 'path', 'url', 'module'].includes(s))).toEqual([]);
    expect([...bare].sort()).toEqual(['assemblyscript/asc', 'onnx-proto', 'zod']);
    for (const file of files) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/^\s*import\b[^;]*from\s+['"]assemblyscript/m);
    }
    // Only the Node entries reach Node's modules.
    expect([...importGraph(join(dist, 'compiler/node.js')).bare].filter((s) => s.startsWith('node:')).length).toBeGreaterThan(0);
  });

  it('no published declaration refers to AssemblyScript', () => {
    const dist = join(app, 'node_modules/nabla/dist');
    const declarations = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'));
    expect(declarations.length).toBeGreaterThan(50);
    for (const file of declarations) expect(readFileSync(join(dist, file), 'utf8'), file).not.toMatch(/assemblyscript|\/\/\/ <reference/);
  });

  it('plain node imports nabla, compiles a model, and training lowers the loss', () => {
    expectLossFell(node);
  });

  it('the .wasm compiled from the package equals the one compiled from the sources', async () => {
    const { SPEC } = (await import('./package/spec.mjs' as string)) as { SPEC: unknown };
    const { wasm } = await compileToWasm(SPEC, { simd: 'baseline' });
    const sha = Buffer.from(await crypto.subtle.digest('SHA-256', wasm)).toString('hex');
    expect(node.wasmSha256).toBe(sha);
  });

  it('a TypeScript consumer of every public entry type-checks (nodenext, strict, no skipLibCheck)', async () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
        files: ['consumer.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: app, timeout: TIMEOUT_MS }).catch((err: { stdout: string }) => err);
    expect(result.stdout).toBe('');
  }, TIMEOUT_MS);

  host('deno', BINARIES.deno)('Deno runs the same program and gets the same .wasm and weights', async () => {
    const { stdout } = await run(BINARIES.deno, ['run', '--quiet', '--no-prompt', `--allow-read=${app}`, '--allow-env', 'app.mjs'], {
      cwd: app,
      timeout: TIMEOUT_MS,
      env: { ...process.env, DENO_DIR: join(installation.work, '.deno'), NO_COLOR: '1' },
    });
    const deno = JSON.parse(stdout) as JobReport;
    expectLossFell(deno);
    expect(deno.wasmSha256).toBe(node.wasmSha256);
    expect(deno.weights).toEqual(node.weights);
  }, TIMEOUT_MS);

  host('bun', BINARIES.bun)('Bun runs the same program and gets the same .wasm and weights', async () => {
    const { stdout } = await run(BINARIES.bun, ['run', 'app.mjs'], { cwd: app, timeout: TIMEOUT_MS });
    const bun = JSON.parse(stdout) as JobReport;
    expectLossFell(bun);
    expect(bun.wasmSha256).toBe(node.wasmSha256);
    expect(bun.weights).toEqual(node.weights);
  }, TIMEOUT_MS);

  (chromiumAvailable() || inCi ? it : it.skip)(
    'esbuild bundles it for the browser; a page and a Worker compile and train to the same .wasm and weights as Node',
    async () => {
      await bundlePage(app);
      const served = await serveStatic(app);
      try {
        const result = await withChromium(async (context) => {
          const page = await context.newPage();
          await page.goto(served.url);
          const handle = await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, undefined, { timeout: TIMEOUT_MS });
          return (await handle.jsonValue()) as { main?: JobReport; worker?: JobReport; error?: string };
        });
        expect(result.error).toBeUndefined();
        for (const report of [result.main!, result.worker!]) {
          expectLossFell(report);
          expect(report.wasmSha256).toBe(node.wasmSha256);
          expect(report.weights).toEqual(node.weights);
        }
      } finally {
        await served.close();
      }
    },
    TIMEOUT_MS,
  );

  describe('the nabla command', () => {
    /** Runs the installed `nabla` with every module it loads recorded; returns its output, exit code and those URLs. */
    async function traced(args: readonly string[]): Promise<{ code: number; out: string; loaded: string[] }> {
      const trace = join(installation.work, `trace-${args.join('-').replace(/[^\w-]/g, '')}.txt`);
      writeFileSync(trace, '');
      const bin = join(app, 'node_modules/nabla/bin/nabla.mjs');
      const result = await run(process.execPath, ['--import', './trace.mjs', bin, ...args], { cwd: app, timeout: TIMEOUT_MS, env: { ...process.env, NABLA_TRACE: trace } }).then(
        ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
        (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }),
      );
      return { ...result, loaded: readFileSync(trace, 'utf8').split('\n').filter(Boolean) };
    }
    const compiler = (loaded: string[]): string[] => loaded.filter((url) => /\/node_modules\/(assemblyscript|binaryen)\//.test(url));

    it('--help, --version and usage errors answer without loading the compiler', async () => {
      const help = await traced(['--help']);
      expect(help.code).toBe(0);
      expect(help.out).toContain('compile <model.json>');
      expect(help.loaded.some((url) => url.endsWith('/dist/compiler/cli/main.js'))).toBe(true);
      expect(compiler(help.loaded)).toEqual([]);
      const version = await traced(['--version']);
      expect(version.out.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
      const usage = await traced(['compile']);
      expect(usage.code).toBe(2);
      expect(compiler(usage.loaded)).toEqual([]);
    }, TIMEOUT_MS);

    it('compile loads the compiler and writes a .wasm', async () => {
      const compiled = await traced(['compile', 'model.json', '-o', 'model.wasm']);
      expect(compiled.code, compiled.out).toBe(0);
      expect(compiler(compiled.loaded).length).toBeGreaterThan(0);
      expect(readFileSync(join(app, 'model.wasm')).subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
    }, TIMEOUT_MS);
  });

  it("'nabla/runtime' trains a prebuilt .wasm in plain node", async () => {
    await trainIn(app, 'nabla/runtime', await smallWasm());
  });
});

/** A script that trains `model.wasm` one step with the runtime imported from `from`, and saves a checkpoint. */
const trainingScript = (from: string): string => `import { readFile } from 'node:fs/promises';
import { loadTrainer, saveCheckpoint } from '${from}';
const trainer = await loadTrainer(await readFile(new URL('./small.wasm', import.meta.url)));
const loss = trainer.trainStep([[1, 2], [3, 4]], [[1], [0]]);
const bytes = await saveCheckpoint(trainer, { step: 1 });
console.log(JSON.stringify({ loss, bytes: bytes.length }));
`;

async function smallWasm(): Promise<Uint8Array> {
  const { wasm } = await compileToWasm({
    input: { shape: [2] },
    layers: [{ type: 'dense', units: 1, activation: 'sigmoid' }],
    loss: { type: 'binary_crossentropy' },
    batchSize: 2,
  });
  return wasm;
}

async function trainIn(dir: string, from: string, wasm: Uint8Array): Promise<void> {
  writeFileSync(join(dir, 'small.wasm'), wasm);
  writeFileSync(join(dir, 'runtime-only.mjs'), trainingScript(from));
  const { stdout } = await run(process.execPath, [join(dir, 'runtime-only.mjs')], { cwd: dir });
  const result = JSON.parse(stdout) as { loss: number; bytes: number };
  expect(result.loss).toBeGreaterThan(0);
  expect(result.bytes).toBeGreaterThan(8);
}

describe('the runtime alone', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/runtime/index.js'))) await buildDist();
  }, TIMEOUT_MS);

  it('dist/runtime imports nothing outside itself, and only the Node adapter uses Node modules', () => {
    const dist = join(ROOT, 'dist/runtime');
    const files = readdirSync(dist).filter((f) => f.endsWith('.js'));
    expect(files).toContain('index.js');
    for (const file of files) {
      for (const spec of importsOf(join(dist, file))) {
        if (file === 'node.js' && spec.startsWith('node:')) continue;
        expect(spec, `${file} imports ${spec}`).toMatch(/^\.\/[a-z_]+\.js$/);
      }
    }
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
      expect(installed['version']).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
      await trainIn(app, 'nabla-runtime', await smallWasm());
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, TIMEOUT_MS);
});
