// The import rules of ARCHITECTURE principle 9, read from the source: arrows run down the
// pipeline, no stage below code generation reaches up into it, the runtime imports nothing of the
// compiler and has no import cycles.
//
// Every import counts, `import type` included: a type import still ties a stage to another's
// definitions, and codegen must not be imported even for a type. Static `import`/`export ... from`
// and dynamic `import('...')` are read; imports of packages (zod, assemblyscript, node:) are not
// ranked.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

/**
 * Each folder of compiler/ by its place in the pipeline. A file may import files of its own rank
 * or below, never above. The IR and the op table are the vocabulary every stage speaks (rank 0);
 * the front end lowers specs to it; the training graph composes autodiff and the optimizer; the
 * passes turn it into a kernel program that codegen writes out. The interpreter sits beside
 * codegen: same rank, and neither imports the other (see BESIDE). The drivers on top tie the
 * stages together. Files directly under compiler/ (compile.ts, index.ts) are drivers.
 */
const RANK: Readonly<Record<string, number>> = {
  ir: 0,
  ops: 0,
  model: 1,
  layers: 1,
  init: 1,
  autodiff: 2,
  optim: 3,
  train: 4,
  passes: 5,
  codegen: 6,
  interpret: 6,
  gradcheck: 7,
  report: 7,
  cli: 7,
  // Translates specs and weights to and from other frameworks: reads the front end and the optimizer's spec.
  interop: 7,
  '': 7,
};

/** Folders of one rank that must not import each other. */
const BESIDE: readonly (readonly [string, string])[] = [['interpret', 'codegen']];

/** The stages below code generation: none of them imports compiler/codegen/, not even a type. */
const BELOW_CODEGEN = ['ir', 'ops', 'autodiff', 'init', 'interpret', 'model', 'layers', 'optim', 'train', 'passes'];

/** Imports against the rank order that are allowed, each with its reason. */
const EXCEPTIONS: readonly { readonly from: string; readonly to: string; readonly reason: string }[] = [
  {
    from: 'compiler/model/spec.ts',
    to: 'compiler/optim/spec.ts',
    reason: "the model spec's schema holds the optimizer's option schema, a zod schema that builds no IR",
  },
];

interface Import {
  readonly from: string;
  readonly to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*${}\s,]*?\s*from\s*)?'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g;

/** The repository files `file` imports (relative specifiers only), as repository paths. */
function importsOf(file: string, source: string): Import[] {
  return [...source.matchAll(IMPORT)].flatMap((m) => {
    const spec = m[1] ?? m[2]!;
    if (!spec.startsWith('.')) return [];
    return [{ from: file, to: normalize(join(dirname(file), spec)).replaceAll('\\', '/') }];
  });
}

/** The compiler folder of a path (`''` for files directly under compiler/), or null outside compiler/. */
function stage(path: string): string | null {
  if (!path.startsWith('compiler/')) return null;
  const parts = path.split('/');
  return parts.length > 2 ? parts[1]! : '';
}

/** The imports that break the rules, each with what it breaks. */
function violations(imports: readonly Import[]): string[] {
  const found: string[] = [];
  for (const { from, to } of imports) {
    const a = stage(from);
    const b = stage(to);
    if (from.startsWith('runtime/') && b !== null) found.push(`${from} → ${to}: runtime/ imports nothing of the compiler`);
    if (a === null || b === null) continue;
    if (BELOW_CODEGEN.includes(a) && b === 'codegen') found.push(`${from} → ${to}: ${a}/ is below code generation`);
    const ra = RANK[a];
    const rb = RANK[b];
    if (ra === undefined || rb === undefined) {
      found.push(`${from} → ${to}: compiler/${ra === undefined ? a : b}/ has no rank in test/layering.test.ts`);
      continue;
    }
    const excepted = EXCEPTIONS.some((e) => e.from === from && e.to === to);
    if (rb > ra && !excepted) found.push(`${from} → ${to}: ${a || 'compiler'} (rank ${ra}) imports ${b} (rank ${rb}), later in the pipeline`);
    if (BESIDE.some(([x, y]) => (a === x && b === y) || (a === y && b === x))) found.push(`${from} → ${to}: ${a}/ and ${b}/ sit beside each other`);
  }
  return found;
}

/** Import cycles among `files`, each as the list of files around it. */
function cycles(imports: readonly Import[], files: readonly string[]): string[][] {
  const edges = new Map(files.map((f) => [f, imports.filter((i) => i.from === f && files.includes(i.to)).map((i) => i.to)]));
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    path.push(f);
    for (const g of edges.get(f) ?? []) {
      if (state.get(g) === 'open') found.push([...path.slice(path.indexOf(g)), g]);
      else if (!state.has(g)) visit(g);
    }
    path.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

const files = [...sourceFiles('compiler'), ...sourceFiles('runtime')];
const imports = files.flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8')));

describe('layering', () => {
  it('reads the imports of the source', () => {
    expect(files.length).toBeGreaterThan(80);
    expect(imports).toContainEqual({ from: 'compiler/codegen/emit.ts', to: 'compiler/passes/fuse.ts' });
    // multi-line and type-only imports
    expect(imports).toContainEqual({ from: 'compiler/index.ts', to: 'compiler/model/builder.ts' });
    expect(imports).toContainEqual({ from: 'compiler/codegen/emit.ts', to: 'compiler/model/lower.ts' });
    for (const { to } of imports) if (stage(to) !== null || to.startsWith('runtime/')) expect(files).toContain(to);
  });

  it('no stage imports a later one, nothing below codegen imports it, runtime/ imports nothing of the compiler', () => {
    expect(violations(imports)).toEqual([]);
  });

  it('every exception is still needed', () => {
    for (const e of EXCEPTIONS) expect(imports, `${e.from} → ${e.to}`).toContainEqual({ from: e.from, to: e.to });
  });

  it('runtime/ has no import cycles', () => {
    expect(cycles(imports, files.filter((f) => f.startsWith('runtime/')))).toEqual([]);
  });

  it('catches a forbidden import', () => {
    const planted = [
      ...importsOf('compiler/ops/matmul.ts', "import type { GemmSpec } from '../codegen/gemm.ts';"),
      ...importsOf('compiler/ir/builder.ts', "import {\n  emitModule,\n} from '../codegen/emit.ts';"),
      ...importsOf('compiler/autodiff/grad.ts', "import { trainingGraphOf } from '../train/graph.ts';"),
      ...importsOf('compiler/interpret/interpreter.ts', "import { planMemory } from '../codegen/plan.ts';"),
      ...importsOf('runtime/trainer.ts', "import { compile } from '../compiler/compile.ts';"),
    ];
    expect(violations(planted)).toHaveLength(8);
    expect(cycles(importsOf('runtime/a.ts', "import { b } from './b.ts';").concat(importsOf('runtime/b.ts', "import type { A } from './a.ts';")), ['runtime/a.ts', 'runtime/b.ts'])).toHaveLength(1);
  });
});
