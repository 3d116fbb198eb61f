// Builds the browser demo: compiles model.json (a dense network) to build/digits.wasm and cnn.json
// (a convolutional one) to build/digits-cnn.wasm, and bundles the nabla runtime (web-standard, no
// compiler) into build/nabla-runtime.js. The page only ever loads these prebuilt files. `--serve [port]` then serves this folder on 127.0.0.1 (npm run demo:browser).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { compileToWasm } from '../../compiler/compile.ts';
import { serveStatic } from './serve.ts';

export const DEMO_DIR = dirname(fileURLToPath(import.meta.url));

/** One plain-JS ES module from a TypeScript entry, for any JavaScript host: 'neutral' lets nothing Node-specific in. */
export async function bundleModule(entry: string, outfile: string): Promise<void> {
  await build({ entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'neutral', target: 'es2022', logLevel: 'silent' });
}

/** The demo's models: the spec file and the trainer it builds (the page picks one by `?model=`). */
export const DEMO_MODELS = { digits: 'model.json', 'digits-cnn': 'cnn.json' } as const;

export async function buildDemo(): Promise<{ readonly wasmBytes: Readonly<Record<string, number>> }> {
  const out = join(DEMO_DIR, 'build');
  mkdirSync(out, { recursive: true });
  const wasmBytes: Record<string, number> = {};
  for (const [name, file] of Object.entries(DEMO_MODELS)) {
    // With its threaded builds: the demo trains on every core where the page is cross-origin isolated.
    const { wasm } = await compileToWasm(JSON.parse(readFileSync(join(DEMO_DIR, file), 'utf8')), { threaded: true });
    writeFileSync(join(out, `${name}.wasm`), wasm);
    wasmBytes[name] = wasm.length;
  }
  await bundleModule(join(DEMO_DIR, '../../runtime/index.ts'), join(out, 'nabla-runtime.js'));
  return { wasmBytes };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { wasmBytes } = await buildDemo();
  for (const [name, bytes] of Object.entries(wasmBytes)) console.log(`built     examples/browser/build/${name}.wasm (${bytes} bytes)`);
  console.log('built     examples/browser/build/nabla-runtime.js');
  const at = process.argv.indexOf('--serve');
  if (at >= 0) {
    const served = await serveStatic(DEMO_DIR, Number(process.argv[at + 1] ?? 8080), { crossOriginIsolated: true });
    console.log(`serving   ${served.url}  (Ctrl-C to stop)`);
  }
}
