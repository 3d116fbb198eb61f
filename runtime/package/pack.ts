// `npm run pack:runtime`: the runtime-only npm package. Lays out runtime/package/{package.json,
// README.md} with the built runtime (dist/runtime, from `npm run build`) in a staging folder,
// stamps nabla's version, and runs `npm pack` there. The result depends on nothing: a user who
// ships a prebuilt .wasm installs this and not the compiler's assemblyscript, binaryen and zod.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** Packs the runtime into `destination` and returns the tarball's path. */
export function packRuntime(destination: string): string {
  const built = join(root, 'dist', 'runtime');
  if (!existsSync(join(built, 'index.js'))) throw new Error(`${built}/index.js is missing: run \`npm run build\` first`);
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const stage = mkdtempSync(join(tmpdir(), 'nabla-runtime-pack-'));
  try {
    const manifest = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify({ ...manifest, version }, null, 2)}\n`);
    cpSync(join(here, 'README.md'), join(stage, 'README.md'));
    cpSync(built, join(stage, 'dist'), { recursive: true });
    const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', resolve(destination)], { cwd: stage, encoding: 'utf8' });
    const [packed] = JSON.parse(out) as [{ filename: string }];
    return join(resolve(destination), packed.filename);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tarball = packRuntime(process.argv[2] ?? '.');
  console.log(tarball);
}
