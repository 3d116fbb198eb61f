// The init() of a trainer: each parameter's draw (compiler/init/) and each state tensor's start
// value as a row of a static table that one loop walks, calling assembly/init.ts, which draws bit
// for bit what the interpreter's initialValues() draws. A layer adds two rows of data, not code.
import type { Draw } from '../init/initializers.ts';
import { f64Literal } from './elementwise.ts';

/** One tensor to fill: `draw` over `count` f32 at `ptr`, from the seed's stream `stream`. */
export interface InitRow {
  readonly name: string;
  readonly draw: Draw;
  readonly ptr: number;
  readonly count: number;
  readonly stream: number;
}

/** The draws in the order of their number in the table's kind word. */
const KINDS = ['fill', 'uniform', 'normal', 'truncated_normal'] as const satisfies readonly Draw['kind'][];

/** The kind's call of assembly/init.ts, from the row's words (ptr, count, stream) and its two f64 values (a, b). */
function call(kind: Draw['kind']): string {
  switch (kind) {
    case 'fill':
      return 'init_fill(ptr, count, <f32>a)';
    case 'uniform':
      return 'init_uniform(ptr, count, a, b, seed, stream)';
    case 'normal':
      return 'init_normal(ptr, count, a, b, seed, stream)';
    case 'truncated_normal':
      return 'init_truncated_normal(ptr, count, a, b, seed, stream)';
  }
}

/** The draw's two f64 values: fill (value, 0), uniform (limit, center), the normals (stddev, mean). */
function values(draw: Draw): readonly [number, number] {
  switch (draw.kind) {
    case 'fill':
      return [draw.value, 0];
    case 'uniform':
      return [draw.limit, draw.center];
    case 'normal':
    case 'truncated_normal':
      return [draw.stddev, draw.mean];
  }
}

export interface EmittedInit {
  readonly source: string;
  /** Bytes of its static table. */
  readonly staticBytes: number;
}

/** `init(seed)`: the table of rows, and the loop that performs them in order. */
export function emitInit(rows: readonly InitRow[]): EmittedInit {
  const used = KINDS.filter((kind) => rows.some((r) => r.draw.kind === kind));
  const words = rows.map((r) => `  ${KINDS.indexOf(r.draw.kind)}, ${r.ptr}, ${r.count}, ${r.stream}, // ${r.name}: ${r.draw.kind}`);
  const reals = rows.map((r) => `  ${values(r.draw).map(f64Literal).join(', ')}, // ${r.name}`);
  const source = [
    `/** What init() fills, a row each: (kind, address, f32 count, stream) and two f64 values (see compiler/codegen/init.ts). */`,
    `const INIT_ROWS = memory.data<u32>([`,
    ...(rows.length ? words : ['  0, 0, 0, 0,']),
    `]);`,
    `const INIT_VALUES = memory.data<f64>([`,
    ...(rows.length ? reals : ['  0, 0,']),
    `]);`,
    '',
    `/** Initialises every parameter from the seed (the same values as the interpreter's), and the optimizer state. */`,
    `export function init(seed: u32): void {`,
    `  for (let r = 0; r < ${rows.length}; r++) {`,
    `    const row = INIT_ROWS + (<usize>r << 4);`,
    `    const ptr = <usize>load<u32>(row, 4);`,
    `    const count = <i32>load<u32>(row, 8);`,
    `    const stream = load<u32>(row, 12);`,
    `    const a = load<f64>(INIT_VALUES + (<usize>r << 4));`,
    `    const b = load<f64>(INIT_VALUES + (<usize>r << 4), 8);`,
    `    switch (load<u32>(row)) {`,
    ...used.map((kind) => `      case ${KINDS.indexOf(kind)}: ${call(kind)}; break;`),
    `      default: unreachable();`,
    `    }`,
    `  }`,
    `}`,
  ].join('\n');
  const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;
  return { source, staticBytes: align(16 * Math.max(1, rows.length)) + align(16 * Math.max(1, rows.length)) };
}
