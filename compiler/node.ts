// `nabla/node`: what only Node can do, kept out of the main entry so `nabla` itself runs in every
// host (a page, a Worker, Deno, Bun). Spec files in; trainers and checkpoints out, on disk.
import { readFile } from 'node:fs/promises';
import { compile, compileToWasm, type CompileOptions, type CompileResult } from './compile.ts';
import { SpecError } from './model/spec_error.ts';
import type { Trainer } from '../runtime/trainer.ts';

export { saveCheckpointFile, loadCheckpointFile, writeFileAtomic } from '../runtime/node.ts';

/** Reads a JSON model spec; a file that is not JSON is a SpecError naming the file. */
export async function readSpecFile(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SpecError(`${path}: invalid JSON: ${(err as Error).message}`);
  }
}

/** Spec errors of the spec read from `path` name the file. */
async function naming<T>(path: string, run: (spec: unknown) => Promise<T>): Promise<T> {
  const spec = await readSpecFile(path);
  try {
    return await run(spec);
  } catch (err) {
    if (err instanceof SpecError) throw new SpecError(`${path}: ${err.message}`);
    throw err;
  }
}

/** `compile` of a JSON spec file: the trainer, ready to train. */
export function compileFile(path: string, options: CompileOptions = {}): Promise<Trainer> {
  return naming(path, (spec) => compile(spec, options));
}

/** `compileToWasm` of a JSON spec file: the `.wasm` and what it was built from. */
export function compileFileToWasm(path: string, options: CompileOptions = {}): Promise<CompileResult> {
  return naming(path, (spec) => compileToWasm(spec, options));
}
