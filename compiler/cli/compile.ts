// `nabla compile <model.json> -o <out.wasm>`
import { compileToWasm, type CompileResult, type CompileOptions } from '../compile.ts';
import { SpecError } from '../model/spec.ts';
import { parseCommand } from './args.ts';
import { CliError, type Io } from './errors.ts';
import { checkWritable, readJson, writeAtomic } from './files.ts';
import { bytesText, paramCount } from './format.ts';
import { usage } from './usage.ts';

/** Reads and compiles a spec file; spec errors name the file. */
export async function compileFile(path: string, options: CompileOptions = {}): Promise<CompileResult> {
  return compileSpec(readJson(path), path, options);
}

/** Compiles a spec read from `path`, naming the file in spec errors. */
export async function compileSpec(spec: unknown, path: string, options: CompileOptions = {}): Promise<CompileResult> {
  try {
    return await compileToWasm(spec, options);
  } catch (err) {
    if (err instanceof SpecError) throw new CliError(`${path}: ${err.message}`);
    throw err;
  }
}

export function defaultOutput(specPath: string): string {
  return specPath.replace(/(\.json)?$/i, '.wasm');
}

export async function compileCommand(args: readonly string[], io: Io): Promise<void> {
  const flags = { output: { type: 'string', short: 'o' }, diagnostics: { type: 'boolean' }, threaded: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
  const parsed = parseCommand('compile', args, flags, ['<model.json>']);
  if (parsed.help) return io.out(usage.compile);
  const specPath = parsed.positionals[0]!;
  const out = parsed.values.output ?? defaultOutput(specPath);
  checkWritable(out, 'output');
  const compiled = await compileFile(specPath, { diagnostics: parsed.values.diagnostics ?? false, threaded: parsed.values.threaded ?? false });
  writeAtomic(out, compiled.wasm);
  const { manifest, timings } = compiled;
  io.out(`compiled ${specPath} → ${out}`);
  io.out(`  model       ${manifest.model}: ${manifest.params.length} tensors, ${paramCount(manifest).toLocaleString('en-US')} parameters`);
  const extras = [manifest.diagnostics ? 'with gradient-flow telemetry' : '', manifest.threadedSha256 ? 'with threaded builds' : ''].filter(Boolean);
  io.out(`  wasm        ${bytesText(compiled.wasm.length)}${extras.map((e) => `, ${e}`).join('')}`);
  io.out(`  time        ${timings.totalMs.toFixed(0)} ms (asc ${timings.ascMs.toFixed(0)} ms)`);
}
