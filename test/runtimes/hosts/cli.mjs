// Node, Deno and Bun: train with the bundled job and print the result as JSON on stdout.
// node:fs is the one host API used; all three runtimes provide it.
import { readFile } from 'node:fs/promises';
import { runJob } from './job.js';

const bytes = await readFile(new URL('./model.wasm', import.meta.url));
console.log(JSON.stringify(await runJob(bytes)));
