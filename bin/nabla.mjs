#!/usr/bin/env node
// The `nabla` command. Installed from npm, it runs the built JavaScript in dist/. In nabla's own
// checkout (where compiler/ holds the TypeScript sources) it runs those through tsx, so what runs
// is always the code as it is now, never a stale build.
import { existsSync } from 'node:fs';

// Writing to a closed pipe (`nabla inspect x.wasm | head`) is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const source = new URL('../compiler/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  // tsx's loader rewrites the dynamic imports of every module it loads, and on binaryen's 13 MB
  // index.js (under assemblyscript) that alone takes about 7 s. Modules already loaded do not pass
  // through the loader again, so the commands that compile load the compiler natively first.
  // predict and evaluate compile only when given a spec, not a trainer .wasm.
  const [command, model] = process.argv.slice(2);
  const compiles = ['compile', 'train', 'gradcheck'].includes(command) || (['predict', 'evaluate'].includes(command) && !model?.endsWith('.wasm'));
  if (compiles) await import('assemblyscript/asc');
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/compiler/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
