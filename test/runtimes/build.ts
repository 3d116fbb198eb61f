// The build step the cross-runtime test runs: bundle job.ts and the runtime it imports into one
// plain-JS ES module, and lay it out with the .wasm and each host's entry file in one directory.
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleModule } from '../../examples/browser/build.ts';

const here = dirname(fileURLToPath(import.meta.url));

export async function buildJobDir(dir: string, wasm: Uint8Array): Promise<void> {
  await bundleModule(join(here, 'job.ts'), join(dir, 'job.js'));
  for (const file of readdirSync(join(here, 'hosts'))) copyFileSync(join(here, 'hosts', file), join(dir, file));
  writeFileSync(join(dir, 'model.wasm'), wasm);
}
