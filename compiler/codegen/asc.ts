// AssemblyScript → wasm in process, through asc's API (no shell-out). The generated module is the
// only entry file; the kernels of assembly/ are served to it as imports, so only the ABI is exported.
// Everything comes from memory (kernel_sources.ts embeds assembly/ and asconfig.json), so this runs
// in every host: Node, Deno, Bun, a page, a Worker. asc and binaryen (about 15 MB of JavaScript
// and wasm) load on the first compile, not when nabla is imported.
import { ASCONFIG as asconfig, KERNEL_SOURCES } from './kernel_sources.ts';
import type { KernelExports } from './emit.ts';

type Asc = typeof import('assemblyscript/asc');

let ascLoading: Promise<Asc> | undefined;

/** AssemblyScript's compiler, imported once, on first use. */
function loadAsc(): Promise<Asc> {
  ascLoading ??= import('assemblyscript/asc').catch((err: unknown) => {
    ascLoading = undefined;
    throw err;
  });
  return ascLoading;
}

/** The hand-written kernel files (name without .ts → source). */
export function kernelFiles(): Map<string, string> {
  return new Map(Object.entries(KERNEL_SOURCES));
}

/** Every `export function` of every kernel file, for the generated module's imports. */
export function kernelExports(): KernelExports {
  return Object.fromEntries([...kernelFiles()].map(([file, src]) => [file, [...src.matchAll(/^export function (\w+)/gm)].map((m) => m[1]!)]));
}

export class AscError extends Error {
  override name = 'AscError';
}

export interface AscResult {
  readonly binary: Uint8Array;
  readonly milliseconds: number;
}

/** Which SIMD the build may use: wasm SIMD128, or SIMD128 plus relaxed SIMD (f32x4.relaxed_madd). */
export type SimdFlavour = 'baseline' | 'relaxed';

// The relaxed build is served this multiply-add instead of assembly/madd.ts's mul + add.
const RELAXED_MADD = `@inline\nexport function madd(a: v128, b: v128, c: v128): v128 {\n  return f32x4.relaxed_madd(a, b, c);\n}\n`;

type Flag = number | string | boolean | readonly string[];

/**
 * asc's flags for a trainer: asconfig.json's options and its release target (the one file that
 * says how nabla compiles AssemblyScript, also for `asc --config asconfig.json --target release`);
 * the relaxed build adds relaxed SIMD to the enabled features, the threaded build atomics and an
 * imported shared memory of a fixed size (`pages`, which it never grows).
 */
export function releaseFlags(relaxed: boolean, threaded?: { readonly pages: number }): string[] {
  const settings: Record<string, Flag> = { ...asconfig.options, ...asconfig.targets.release };
  settings['enable'] = [...asconfig.options.enable, ...(relaxed ? ['relaxed-simd'] : []), ...(threaded ? ['threads'] : [])];
  if (threaded) Object.assign(settings, { importMemory: true, sharedMemory: true, maximumMemory: threaded.pages });
  return Object.entries(settings).flatMap(([name, value]): string[] => {
    if (value === false) return [];
    if (value === true) return [`--${name}`];
    return [`--${name}`, Array.isArray(value) ? value.join(',') : String(value)];
  });
}

export async function compileAssemblyScript(
  source: string,
  options: { memoryBase: number; initialPages: number; simd?: SimdFlavour; threaded?: boolean },
): Promise<AscResult> {
  const relaxed = options.simd === 'relaxed';
  const files = new Map(kernelFiles());
  if (relaxed) files.set('madd', RELAXED_MADD);
  let binary: Uint8Array | undefined;
  let stderr = '';
  const asc = await loadAsc();
  const started = performance.now();
  const result = await asc.main(
    [
      'model.ts',
      '--outFile', 'model.wasm',
      ...releaseFlags(relaxed, options.threaded ? { pages: options.initialPages } : undefined),
      '--memoryBase', String(options.memoryBase),
      '--initialMemory', String(options.initialPages),
    ],
    {
      readFile: (name) => (name === 'model.ts' ? source : (files.get(name.replace(/\.ts$/, '')) ?? null)),
      writeFile: (name, contents) => {
        if (name === 'model.wasm' && typeof contents !== 'string') binary = contents;
      },
      listFiles: () => [],
      stdout: { write: () => true } as never,
      stderr: {
        write: (chunk: string | Uint8Array) => {
          stderr += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
          return true;
        },
      } as never,
    },
  );
  if (result.error || !binary) {
    throw new AscError(`AssemblyScript compilation failed: ${result.error?.message ?? 'no binary'}\n${stderr}`);
  }
  return { binary, milliseconds: performance.now() - started };
}
