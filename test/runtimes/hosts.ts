// Running the bundled job in each host and collecting its result (job.ts's JobResult as JSON text).
// Each runner resolves to that text or rejects with the host's own error output.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { withChromium } from '../support/chromium.ts';
import { serveStatic } from '../../examples/browser/serve.ts';
import { freePort } from '../support/port.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);
const TIMEOUT_MS = 60_000;

/** The command-line runtimes, from npm, in their own folder (its package.json says why). */
const engines = join(root, 'test/runtimes/engines/node_modules/.bin');
export const ENGINES_INSTALL = 'npm install --prefix test/runtimes/engines';
export const BINARIES = {
  node22: join(engines, 'node'),
  deno: join(engines, 'deno'),
  bun: join(engines, 'bun'),
  workerd: join(engines, 'workerd'),
} as const;

export function installed(path: string): boolean {
  return existsSync(path);
}

async function runCli(command: string, args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(command, args, { timeout: TIMEOUT_MS, env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  return stdout.trim();
}

export const runNode = (node: string, dir: string): Promise<string> => runCli(node, [join(dir, 'cli.mjs')]);

export const runDeno = (dir: string): Promise<string> =>
  runCli(BINARIES.deno, ['run', '--quiet', '--no-prompt', `--allow-read=${dir}`, join(dir, 'cli.mjs')], { DENO_DIR: join(dir, '.deno'), NO_COLOR: '1' });

export const runBun = (dir: string): Promise<string> => runCli(BINARIES.bun, ['run', join(dir, 'cli.mjs')]);

export async function runVersion(command: string, args: readonly string[] = ['--version']): Promise<string> {
  return (await runCli(command, args)).split('\n')[0]!;
}

/** workerd serves the job on 127.0.0.1; the test asks over HTTP, retrying until it listens. */
export async function runWorkerd(dir: string): Promise<string> {
  const port = await freePort();
  const child = spawn(BINARIES.workerd, ['serve', join(dir, 'config.capnp'), '--socket-addr', `http=127.0.0.1:${port}`], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<never>((_, reject) => child.on('exit', (code) => reject(new Error(`workerd exited with ${code}: ${stderr}`))));
  try {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      try {
        const response = await Promise.race([fetch(`http://127.0.0.1:${port}/`), exited]);
        const body = await response.text();
        if (!response.ok) throw new Error(`workerd answered ${response.status}: ${body}`);
        return body;
      } catch (err) {
        const refused = (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
        if (!refused || Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    child.kill();
  }
}

/**
 * Chromium loads index.html from 127.0.0.1, which fetches the .wasm and publishes window.result;
 * served cross-origin isolated (COOP/COEP) unless told otherwise.
 */
export async function runChromium(dir: string, options: { readonly crossOriginIsolated?: boolean } = {}): Promise<string> {
  const served = await serveStatic(dir, 0, { crossOriginIsolated: options.crossOriginIsolated ?? true });
  try {
    return await withChromium(async (context) => {
      const page = await context.newPage();
      await page.goto(served.url);
      const handle = await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, undefined, { timeout: TIMEOUT_MS });
      const result = (await handle.jsonValue()) as { json?: string; error?: string };
      if (result.error !== undefined) throw new Error(`chromium: ${result.error}`);
      return result.json!;
    });
  } finally {
    await served.close();
  }
}
