// The packed package as a user gets it: `npm pack` of this checkout (built first, as prepack does),
// installed offline into an empty project beside the consumer files of this folder. Dependencies
// come from the npm cache, which `npm ci` of this repository filled. `npm ci` fetches the tarballs
// its lockfile names and not the registry's package documents, which resolving a version range
// offline needs; so the project gets a lockfile too, made from this repository's (the entries of
// nabla's dependencies, exactly the versions `npm ci` put in the cache), and installs with
// `npm ci --offline`.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type BuildOptions } from 'esbuild';

export const run = promisify(execFile);
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const here = dirname(fileURLToPath(import.meta.url));

/**
 * What a browser bundle of `nabla` needs, as the README states it: an ES module (AssemblyScript's
 * compiler uses top-level await) for ES2022, and Node's built-ins left out — AssemblyScript and
 * binaryen import them only when they run under Node.
 */
export const BROWSER_BUNDLE: BuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  external: ['fs', 'module', 'path', 'url', 'node:*'],
  logLevel: 'silent',
};

export interface Installed {
  /** The temporary folder holding the tarball and the project. */
  readonly work: string;
  readonly tarball: string;
  /** The project: nabla installed in node_modules, and this folder's consumer files. */
  readonly app: string;
}

/** Builds dist/ afresh with the TypeScript compiler of this checkout (what `npm run build` runs after `generate`). */
export async function buildDist(): Promise<void> {
  rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT });
}

export async function packAndInstall(): Promise<Installed> {
  await buildDist();
  const work = mkdtempSync(join(tmpdir(), 'nabla-consumer-'));
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, maxBuffer: 1 << 24 });
  const tarball = join(work, (JSON.parse(stdout) as [{ filename: string }])[0].filename);
  const app = join(work, 'app');
  mkdirSync(app);
  const dependency = `file:../${basename(tarball)}`;
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: { nabla: dependency } }, null, 2)}\n`);
  writeFileSync(join(app, 'package-lock.json'), `${JSON.stringify(consumerLock(dependency), null, 2)}\n`);
  await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app, maxBuffer: 1 << 24 });
  for (const file of readdirSync(here)) if (!file.endsWith('.ts') || file === 'consumer.ts') copyFileSync(join(here, file), join(app, file));
  copyFileSync(join(ROOT, 'examples/iris/model.json'), join(app, 'model.json'));
  return { work, tarball, app };
}

interface LockEntry {
  readonly dev?: boolean;
  readonly [field: string]: unknown;
}

/** The lockfile of a project that depends on nabla's tarball at `dependency` and nothing else. */
export function consumerLock(dependency: string): object {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  // The repository's tree without its development dependencies is the tree nabla's dependencies need.
  const dependencies = Object.entries(lock.packages).filter(([path, entry]) => path.startsWith('node_modules/') && entry.dev !== true);
  const nabla = { version: manifest['version'], resolved: dependency, license: manifest['license'], dependencies: manifest['dependencies'], bin: manifest['bin'], engines: manifest['engines'] };
  return {
    name: 'app',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: 'app', dependencies: { nabla: dependency } }, 'node_modules/nabla': nabla, ...Object.fromEntries(dependencies) },
  };
}

/** Bundles the page and its Worker in `app` for the browser, with esbuild and BROWSER_BUNDLE only. */
export async function bundlePage(app: string): Promise<void> {
  await build({ ...BROWSER_BUNDLE, entryPoints: [join(app, 'page.mjs')], outfile: join(app, 'page.js'), absWorkingDir: app });
  await build({ ...BROWSER_BUNDLE, entryPoints: [join(app, 'worker.mjs')], outfile: join(app, 'worker.js'), absWorkingDir: app });
}

/** The job's report (job.mjs). */
export interface JobReport {
  readonly wasmSha256: string;
  readonly losses: number[];
  readonly weights: string[];
  readonly compileMs: number;
}
