// The generated modules that carry assembly/, asconfig.json and package.json's version into the
// compiler (scripts/embed.ts) must say what those files say today, and the compiler must use them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_FILES, kernelSourcesModule, versionModule } from '../scripts/embed.ts';
import { kernelExports } from '../compiler/codegen/asc.ts';
import { NABLA_VERSION } from '../compiler/index.ts';

const STALE = 'is stale: run `npm run generate` and commit the result';

describe('the embedded kernel sources and version', () => {
  it('compiler/codegen/kernel_sources.ts holds assembly/*.ts and asconfig.json as they are', () => {
    expect(readFileSync(EMBEDDED_FILES.kernels, 'utf8') === kernelSourcesModule(), `${EMBEDDED_FILES.kernels} ${STALE}`).toBe(true);
  });

  it("compiler/version.ts holds package.json's version", () => {
    expect(readFileSync(EMBEDDED_FILES.version, 'utf8') === versionModule(), `${EMBEDDED_FILES.version} ${STALE}`).toBe(true);
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(NABLA_VERSION).toBe(version);
  });

  it('the generated module imports the kernels that assembly/ exports', () => {
    const exports = kernelExports();
    expect(Object.keys(exports)).toContain('kernels');
    const onDisk = readFileSync(new URL('../assembly/kernels.ts', import.meta.url), 'utf8');
    const names = [...onDisk.matchAll(/^export function (\w+)/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(0);
    expect(exports['kernels']).toEqual(names);
  });
});
