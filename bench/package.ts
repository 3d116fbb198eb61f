// The package as users get it: install size of `nabla` and `nabla-runtime`, time to import `nabla`,
// time of `nabla --help`, and the first compile of the iris model in a fresh Node process and in a
// fresh headless Chromium page. Packs and installs the way test/package.test.ts does.
// Run: npm run bench:package   (medians of fresh processes; Chromium needs /usr/bin/chromium)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { packRuntime } from '../runtime/package/pack.ts';
import { serveStatic } from '../examples/browser/serve.ts';
import { withChromium } from '../test/support/chromium.ts';
import { BROWSER_BUNDLE, packAndInstall, run } from '../test/package/install.ts';
import { median } from './timing.ts';

const RUNS = 5;
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
/** Bytes on disk under `dir` (du, apparent sizes). */
const du = (dir: string): number => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);

/** A fresh process: imports `nabla`, then compiles the iris model; prints both times, wall clock and CPU (user + system, all of the process's threads). */
const FIRST_COMPILE = `const cpu = (since) => { const u = process.cpuUsage(since); return (u.user + u.system) / 1000; };
const t0 = performance.now();
const c0 = process.cpuUsage();
const { compileToWasm } = await import('nabla');
const t1 = performance.now();
const importCpuMs = cpu(c0);
const c1 = process.cpuUsage();
const spec = JSON.parse(await (await import('node:fs/promises')).readFile('model.json', 'utf8'));
await compileToWasm(spec);
console.log(JSON.stringify({ importMs: t1 - t0, importCpuMs, compileMs: performance.now() - t1, compileCpuMs: cpu(c1) }));
`;

/** Preloaded into a process (--import): prints the CPU time it used, user + system, when it exits. */
const CPU_AT_EXIT = `process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('cpu-ms ' + (u.user + u.system) / 1000 + '\\n'); });
`;

/** Wall clock of a fresh node process running `args`, and the CPU time it used. */
async function timedProcess(cwd: string, args: readonly string[]): Promise<{ wallMs: number; cpuMs: number }> {
  const started = performance.now();
  const { stderr } = await run(process.execPath, ['--import', './cpu-at-exit.mjs', ...args], { cwd });
  return { wallMs: performance.now() - started, cpuMs: Number(/cpu-ms ([\d.]+)/.exec(stderr)![1]) };
}

/** The same in a page: the bundle is loaded, then the first compile is timed. */
const PAGE = `import { compileToWasm } from 'nabla';
import spec from './model.json';
const t0 = performance.now();
await compileToWasm(spec);
window.result = { compileMs: performance.now() - t0 };
`;

const installation = await packAndInstall();
const { app, tarball } = installation;
try {
  const say = (line: string): void => console.log(line);
  const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
  say(`${new Date().toISOString()}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, load average ${load()}`);
  say(`tarball: ${kib(readFileSync(tarball).length)}; node_modules/nabla alone: ${mib(du(join(app, 'node_modules/nabla')))}; node_modules with its dependencies: ${mib(du(join(app, 'node_modules')))}`);

  const runtimeWork = join(installation.work, 'runtime');
  mkdirSync(join(runtimeWork, 'app'), { recursive: true });
  const runtimeTarball = packRuntime(runtimeWork);
  writeFileSync(join(runtimeWork, 'app/package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', runtimeTarball], { cwd: join(runtimeWork, 'app') });
  say(`nabla-runtime: tarball ${kib(readFileSync(runtimeTarball).length)}; node_modules ${kib(du(join(runtimeWork, 'app/node_modules')))}`);

  writeFileSync(join(app, 'first-compile.mjs'), FIRST_COMPILE);
  const runs: { importMs: number; importCpuMs: number; compileMs: number; compileCpuMs: number }[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(JSON.parse((await run(process.execPath, ['first-compile.mjs'], { cwd: app })).stdout));
  const summary = (values: number[]): string => `median ${median(values).toFixed(0)} ms (${values.map((v) => v.toFixed(0)).join(', ')})`;
  say(`import 'nabla' in a fresh node: wall ${summary(runs.map((r) => r.importMs))}; CPU ${summary(runs.map((r) => r.importCpuMs))}`);
  say(`first compileToWasm of examples/iris/model.json in node (both SIMD builds, AssemblyScript loaded on demand): wall ${summary(runs.map((r) => r.compileMs))}; CPU ${summary(runs.map((r) => r.compileCpuMs))}`);

  writeFileSync(join(app, 'cpu-at-exit.mjs'), CPU_AT_EXIT);
  const bin = join(app, 'node_modules/nabla/bin/nabla.mjs');
  const help: { wallMs: number; cpuMs: number }[] = [];
  for (let i = 0; i < RUNS; i++) help.push(await timedProcess(app, [bin, '--help']));
  say(`nabla --help, whole process: wall ${summary(help.map((h) => h.wallMs))}; CPU ${summary(help.map((h) => h.cpuMs))}`);
  const bare: { wallMs: number; cpuMs: number }[] = [];
  for (let i = 0; i < RUNS; i++) bare.push(await timedProcess(app, ['-e', '0']));
  say(`  node -e 0, the floor: wall ${summary(bare.map((h) => h.wallMs))}; CPU ${summary(bare.map((h) => h.cpuMs))}`);

  writeFileSync(join(app, 'iris-page.mjs'), PAGE);
  writeFileSync(join(app, 'iris.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="./iris-page.js"></script>\n');
  await build({ ...BROWSER_BUNDLE, entryPoints: [join(app, 'iris-page.mjs')], outfile: join(app, 'iris-page.js'), absWorkingDir: app });
  const served = await serveStatic(app);
  try {
    const browser: number[] = [];
    for (let i = 0; i < 3; i++) {
      browser.push(
        await withChromium(async (context) => {
          const page = await context.newPage();
          await page.goto(`${served.url}iris.html`);
          const handle = await page.waitForFunction(() => (window as unknown as { result?: { compileMs: number } }).result, undefined, { timeout: 300_000 });
          return ((await handle.jsonValue()) as { compileMs: number }).compileMs;
        }),
      );
    }
    say(`first compileToWasm of the iris model in a fresh headless Chromium (${execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim()}): median ${median(browser).toFixed(0)} ms (${browser.map((v) => v.toFixed(0)).join(', ')})`);
  } finally {
    await served.close();
  }
  say(`load average at the end: ${load()}`);
} finally {
  rmSync(installation.work, { recursive: true, force: true });
}
