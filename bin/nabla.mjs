#!/usr/bin/env node
// The installed `nabla` command: nabla ships TypeScript, so register tsx's loader, then run the CLI.
import { register } from 'tsx/esm/api';

// tsx's loader rewrites the dynamic imports of every module it loads, and on binaryen's 13 MB
// index.js (under assemblyscript) that alone takes about 7 s. Modules already loaded do not pass
// through the loader again, so the commands that compile load the compiler natively first.
// predict and evaluate compile only when given a spec, not a trainer .wasm.
const [command, model] = process.argv.slice(2);
const compiles = ['compile', 'train', 'gradcheck'].includes(command) || (['predict', 'evaluate'].includes(command) && !model?.endsWith('.wasm'));
if (compiles) await import('assemblyscript/asc');

register();
const { main } = await import('../compiler/cli/main.ts');
// Writing to a closed pipe (`nabla inspect x.wasm | head`) is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
process.exitCode = await main(process.argv.slice(2));
