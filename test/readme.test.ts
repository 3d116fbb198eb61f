// The README's code runs as written. Every ```ts and ```js block is a module run here as it is,
// with `nabla`, `nabla/node`, `nabla/runtime` and `nabla/runtime/node` resolved to the sources;
// a `console.log(...); // prints X` line must print X (the start of the printed line, as
// console.log formats it). Every ```jsonc block is a model spec that parses. Every ```sh block of
// `npx nabla` lines runs, line by line, through the command line in process, and must succeed;
// the esbuild command for the browser is the one test/package.test.ts bundles with.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseSpec } from '../compiler/model/spec.ts';
import { runCli } from './support/cli.ts';
import { BROWSER_BUNDLE } from './package/install.ts';

const root = new URL('..', import.meta.url);
const README = readFileSync(new URL('README.md', root), 'utf8');

/** The entries a user imports, and the source files they are built from. */
const ENTRIES: Record<string, string> = {
  nabla: 'compiler/index.ts',
  'nabla/node': 'compiler/node.ts',
  'nabla/runtime': 'runtime/index.ts',
  'nabla/runtime/node': 'runtime/node.ts',
};

interface Block {
  readonly language: string;
  readonly code: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

function blocks(markdown: string): Block[] {
  const found: Block[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) {
    found.push({ language: match[1]!, code: match[2]!, line: markdown.slice(0, match.index).split('\n').length });
  }
  return found;
}

/** What the block's `// prints` comments say its console.log calls print, in order. */
function expectedPrints(code: string): string[] {
  return [...code.matchAll(/console\.log\(.*\/\/ prints (.+)$/gm)].map((m) => m[1]!.trim());
}

const withSources = (code: string): string =>
  code.replace(/from '(nabla(?:\/[\w/]+)?)'/g, (_match, entry: string) => {
    const source = ENTRIES[entry];
    if (source === undefined) throw new Error(`README imports an unknown entry '${entry}'`);
    return `from '${new URL(source, root).pathname}'`;
  });

const all = blocks(README);
const runnable = all.filter((b) => b.language === 'ts' || b.language === 'js');
const specs = all.filter((b) => b.language === 'jsonc');
/** A shell line without its comment, continuation lines joined. */
const shellLines = (code: string): string[] =>
  code
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
const commandLines = all.filter((b) => b.language === 'sh' && shellLines(b.code).every((line) => line.startsWith('npx nabla ')));
const work = mkdtempSync(join(tmpdir(), 'nabla-readme-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the README', () => {
  it('has code to run', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(4);
    expect(specs.length).toBeGreaterThanOrEqual(1);
  });

  for (const block of runnable) {
    it(`runs the ${block.language} block at line ${block.line} and prints what its comments say`, async () => {
      const printed: string[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(format(...args)));
      try {
        const file = join(work, `block-${block.line}.${block.language}`);
        writeFileSync(file, withSources(block.code));
        await import(file);
      } finally {
        log.mockRestore();
      }
      const expected = expectedPrints(block.code);
      expect(printed).toHaveLength(expected.length);
      expected.forEach((text, i) => expect(printed[i], `print ${i + 1}`).toMatch(new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)));
    }, 120_000);
  }

  for (const block of commandLines) {
    it(`runs the nabla commands of the block at line ${block.line}`, async () => {
      for (const line of shellLines(block.code)) {
        const { code, err } = await runCli(line.split(/\s+/).slice(2));
        expect(code, `${line}\n${err}`).toBe(0);
      }
    }, 300_000);
  }

  it('bundles for the browser with the esbuild flags the package test uses', () => {
    const command = all.flatMap((b) => (b.language === 'sh' ? shellLines(b.code) : [])).find((line) => line.startsWith('npx esbuild '));
    expect(command).toBeDefined();
    const flags = command!.split(/\s+/).map((flag) => flag.replace(/^'(.*)'$/, '$1'));
    const option = (name: string): string[] => flags.filter((f) => f.startsWith(`--${name}=`) || f.startsWith(`--${name}:`)).map((f) => f.slice(name.length + 3));
    expect(flags).toContain('--bundle');
    expect(BROWSER_BUNDLE.bundle).toBe(true);
    expect(option('format')).toEqual([BROWSER_BUNDLE.format]);
    expect(option('platform')).toEqual([BROWSER_BUNDLE.platform]);
    expect(option('target')).toEqual([BROWSER_BUNDLE.target]);
    expect(option('external')).toEqual(BROWSER_BUNDLE.external);
  });

  for (const block of specs) {
    it(`the JSON spec at line ${block.line} parses`, () => {
      const json = block.code.replace(/\s\/\/.*$/gm, '');
      expect(() => parseSpec(JSON.parse(json))).not.toThrow();
    });
  }
});
