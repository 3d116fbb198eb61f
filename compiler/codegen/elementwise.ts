// The one loop emitter for every elementwise op. Operands broadcast to the output (any rank, axes
// grouped into at most three runs) by stride 0; same-shape operands are walked as one flat f32x4
// loop with a scalar tail.
import type { Dim, Node } from '../ir/types.ts';
import type { Template } from '../ops/op.ts';
import { STEP } from '../../runtime/ports.ts';

/** A buffer operand walks rows by `rowStride` elements (null: the same row for every i) and columns by 1 (or stays on one element when `colBroadcast`). */
type Operand =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'buffer'; readonly ptr: string; readonly rowStride: string | null; readonly colBroadcast: boolean; readonly counter: boolean };

/**
 * The step counter is stored as a u32 (an f32 stops counting at 2²⁴): a kernel that reads it
 * converts it to f32 as it loads it (rounded above 2²⁴, but still increasing).
 */
const isCounter = (input: Node): boolean => input.op === 'state' && input.attrs['name'] === STEP;
const loadScalar = (o: { readonly counter: boolean }, at: string): string => (o.counter ? `<f32>load<u32>(${at})` : `load<f32>(${at})`);
const loadVector = (o: { readonly counter: boolean }, at: string): string => (o.counter ? `f32x4.convert_i32x4_u(v128.load(${at}))` : `v128.load(${at})`);

/**
 * A float32 constant as AssemblyScript source that reads back as exactly Math.fround(value).
 * Always a float literal (a point or an exponent): String() writes 1e19 as `10000000000000000000`,
 * an integer literal that AssemblyScript types as i64 (wrapping above 2⁶³, refused above 2⁶⁴);
 * integers get `.0`, or exponent form from 1e15 up. The digits are the shortest that give back
 * the float32's float64 value, so the f64 → f32 conversion of the literal is exact; −0 keeps its sign.
 */
export function f32Literal(value: number): string {
  const f = Math.fround(value);
  if (!Number.isFinite(f)) throw new Error(`internal: constant ${value} is not finite in float32 (the spec check should have refused it)`);
  if (f === 0) return Object.is(f, -0) ? '<f32>(-0.0)' : '<f32>(0.0)';
  const text = String(f);
  if (/[.e]/.test(text)) return `<f32>(${text})`;
  return Math.abs(f) < 1e15 ? `<f32>(${text}.0)` : `<f32>(${f.toExponential()})`;
}

/**
 * The output's axes grouped into runs along which every operand either walks or broadcasts
 * alike: a same-shape kernel is one run, a per-channel operand over [N, H, W, C] makes two
 * ([N·H·W] broadcast, [C] walked), a per-sample one ([N, 1, 1, C] over [N, H, W, C]) three.
 * Axes of extent 1 join any run. Each run is an extent (an AssemblyScript product) with, per
 * operand, whether it broadcasts along it.
 */
interface Run {
  readonly dims: Dim[];
  readonly broadcast: boolean[];
}

function runsOf(out: readonly Dim[], operands: readonly (readonly Dim[])[]): Run[] {
  const padded = operands.map((s) => [...new Array<Dim>(out.length - s.length).fill(1), ...s]);
  const runs: Run[] = [];
  out.forEach((d, axis) => {
    if (d === 1) return;
    const broadcast = padded.map((s) => s[axis] === 1);
    const last = runs.at(-1);
    if (last && last.broadcast.every((b, k) => b === broadcast[k])) last.dims.push(d);
    else runs.push({ dims: [d], broadcast });
  });
  return runs;
}

/** Each axis its own run (extent-1 axes too). */
function axesOf(out: readonly Dim[], operands: readonly (readonly Dim[])[]): Run[] {
  const padded = operands.map((s) => [...new Array<Dim>(out.length - s.length).fill(1), ...s]);
  return out.map((d, axis) => ({ dims: [d], broadcast: padded.map((s) => s[axis] === 1 && d !== 1) }));
}

const extent = (dims: readonly Dim[], dim: (d: Dim) => string): string => dims.map(dim).join(' * ') || '1';

/**
 * The loop of one elementwise kernel. With `columnSums` (the address of a [cols] buffer) the
 * kernel also sums its [rows, cols] output over the rows while each value is still in a
 * register: a bias gradient taken in the pass that computes the layer's gradient, in the same
 * row order as `sum_rows`, so the sums are the same floats.
 */
export function emitElementwise(
  template: Extract<Template<unknown>, { kind: 'elementwise' }>,
  node: Node,
  inputs: readonly Node[],
  out: string,
  ins: readonly string[],
  dim: (d: Dim) => string,
  columnSums?: string,
): string {
  if (columnSums !== undefined && node.shape.length !== 2) throw new Error(`internal: column sums of a rank-${node.shape.length} kernel`);
  // Column sums need the output's own [rows, cols]: each axis kept apart.
  const runs = columnSums === undefined ? runsOf(node.shape, inputs.map((i) => (i.op === 'constant' ? [] : i.shape))) : axesOf(node.shape, inputs.map((i) => i.shape));
  if (runs.length > 3) throw new Error(`internal: elementwise operands ${inputs.map((i) => `[${i.shape.join(',')}]`).join(' ')} broadcast along more than three runs of axes`);
  // Up to three runs: an outer loop (o) around rows (i) of columns (j).
  const outer = runs.length === 3 ? runs[0]! : null;
  const [rowRun, colRun] = runs.length === 3 ? [runs[1], runs[2]] : runs.length === 2 ? [runs[0], runs[1]] : [undefined, runs[0]];
  const R = rowRun ? extent(rowRun.dims, dim) : '1';
  const C = colRun ? extent(colRun.dims, dim) : '1';
  const operands: Operand[] = inputs.map((input, k) => {
    if (input.op === 'constant') return { kind: 'literal', value: f32Literal(input.attrs.value) };
    const rowOne = !rowRun || rowRun.broadcast[k]!;
    const colOne = !colRun || colRun.broadcast[k]!;
    const c = colOne ? '1' : C;
    let ptr = ins[k]!;
    if (outer && !outer.broadcast[k]) ptr = `(${ptr} + ((<usize>o * <usize>${[rowOne ? '1' : R, c].filter((e) => e !== '1').join(' * ') || '1'}) << 2))`;
    return { kind: 'buffer', ptr, rowStride: rowOne && R !== '1' ? null : c, colBroadcast: colOne && C !== '1', counter: isCounter(input) };
  });
  // Same-shape operands and scalars need no row structure: one flat loop over R·C elements.
  const flat =
    columnSums === undefined &&
    operands.every((o) => o.kind === 'literal' || (o.rowStride !== null && !o.colBroadcast) || (o.rowStride === null && o.colBroadcast) || R === '1');
  const lines: string[] = [];
  const scalars: string[] = [];
  const vectors: string[] = [];
  const rowBase = (o: Extract<Operand, { kind: 'buffer' }>, row: string): string =>
    o.rowStride === null ? o.ptr : `${o.ptr} + ((<usize>${row} * <usize>${o.rowStride}) << 2)`;

  // Hoist operands constant over the loop: literals and broadcast scalars.
  operands.forEach((o, k) => {
    if (o.kind === 'literal') {
      scalars[k] = o.value;
      vectors[k] = `f32x4.splat(${o.value})`;
    }
  });

  const inner = (outBase: string, bases: readonly string[], count: string): void => {
    operands.forEach((o, k) => {
      if (o.kind === 'buffer' && o.colBroadcast) {
        lines.push(`    const s${k} = ${loadScalar(o, bases[k]!)};`);
        if (template.simd) lines.push(`    const v${k} = f32x4.splat(s${k});`);
      }
    });
    const scalarArgs = operands.map((o, k) => (o.kind === 'literal' ? scalars[k]! : o.colBroadcast ? `s${k}` : loadScalar(o, `${bases[k]} + (<usize>j << 2)`)));
    // One column loop, f32x4 or scalar: store each value, and add it to its column's sum.
    const columns = (head: string, value: string, word: { store: string; load: string; add: (a: string, b: string) => string }): void => {
      const at = `${outBase} + (<usize>j << 2)`;
      if (columnSums === undefined) {
        lines.push(`    ${head} ${word.store}(${at}, ${value});`);
        return;
      }
      lines.push(`    ${head} {`, `      const v = ${value};`, `      ${word.store}(${at}, v);`);
      lines.push(`      const s = ${columnSums} + (<usize>j << 2);`, `      ${word.store}(s, ${word.add(`${word.load}(s)`, 'v')});`, `    }`);
    };
    lines.push(`    let j = 0;`);
    if (template.simd) {
      const vecArgs = operands.map((o, k) => (o.kind === 'literal' ? vectors[k]! : o.colBroadcast ? `v${k}` : loadVector(o, `${bases[k]} + (<usize>j << 2)`)));
      columns(`for (; j + 4 <= ${count}; j += 4)`, template.simd(...vecArgs), { store: 'v128.store', load: 'v128.load', add: (a, b) => `f32x4.add(${a}, ${b})` });
    }
    columns(`for (; j < ${count}; j++)`, template.scalar(...scalarArgs), { store: 'store<f32>', load: 'load<f32>', add: (a, b) => `${a} + ${b}` });
  };

  const outBlock = outer ? `(${out} + ((<usize>o * <usize>${[R, C].filter((e) => e !== '1').join(' * ') || '1'}) << 2))` : out;
  if (outer) lines.push(`  for (let o = 0; o < ${extent(outer.dims, dim)}; o++) {`);
  if (flat) {
    const total = [R, C].filter((d) => d !== '1').join(' * ') || '1';
    lines.push(`  {`);
    inner(outBlock, operands.map((o) => (o.kind === 'buffer' ? o.ptr : '')), total);
    lines.push(`  }`);
  } else {
    if (columnSums !== undefined) lines.push(`  memory.fill(${columnSums}, 0, <usize>${C} << 2);`);
    lines.push(`  for (let i = 0; i < ${R}; i++) {`);
    const outBase = `${outBlock} + ((<usize>i * <usize>${C}) << 2)`;
    inner(outBase, operands.map((o) => (o.kind === 'buffer' ? rowBase(o, 'i') : '')), C);
    lines.push(`  }`);
  }
  if (outer) lines.push(`  }`);
  return lines.join('\n');
}
