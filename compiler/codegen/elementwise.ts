// The one loop emitter for every elementwise op. Operands broadcast to the output (any rank, as
// at most three runs of axes: loopView) by stride 0; same-shape operands are walked as one flat f32x4 loop with a scalar tail.
import { broadcastAlong } from '../ir/broadcast.ts';
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
  return `<f32>(${floatText(f)})`;
}

/** An f64 as AssemblyScript source, by the same rule: always a float literal, exact, −0 kept. */
export function f64Literal(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`internal: constant ${value} is not finite (the spec check should have refused it)`);
  return floatText(value);
}

function floatText(f: number): string {
  if (f === 0) return Object.is(f, -0) ? '-0.0' : '0.0';
  const text = String(f);
  if (/[.e]/.test(text)) return text;
  return Math.abs(f) < 1e15 ? `${text}.0` : f.toExponential();
}

/** Axes merged into one loop dimension: their sizes, and per operand whether it is broadcast along them. */
interface AxisGroup {
  readonly dims: readonly Dim[];
  readonly broadcast: readonly boolean[];
}

/**
 * The output's axes as at most three loop dimensions [outer, rows, cols]: size-1 axes dropped,
 * neighbours merged where every operand is broadcast along both or along neither (a channel bias
 * on [N, H, W, C] is [N·H·W rows, C cols]; a per-sample, per-channel [N, 1, 1, C] — a global
 * pooling's gradient — is [N outer, H·W rows, C cols]; same-shape operands are one flat run).
 * Operand shapes are right-aligned to the output's rank (numpy rules).
 */
function loopView(shape: readonly Dim[], operands: readonly (readonly Dim[])[], keepRowsAndColumns: boolean): [AxisGroup | null, AxisGroup, AxisGroup] {
  const groups: { dims: Dim[]; broadcast: boolean[] }[] = [];
  shape.forEach((d, axis) => {
    const broadcast = operands.map((o) => broadcastAlong(shape, o, axis));
    // Column sums need the output as [rows, cols]: every leading axis in the rows (each operand
    // broadcast along all of them or none: fuse.ts checks), the last axis the columns.
    if (keepRowsAndColumns) {
      if (axis === shape.length - 1 || groups.length === 0) return void groups.push({ dims: [d], broadcast });
      return void groups[0]!.dims.push(d);
    }
    if (d === 1) return;
    const last = groups.at(-1);
    if (last && last.broadcast.every((b, k) => b === broadcast[k])) last.dims.push(d);
    else groups.push({ dims: [d], broadcast });
  });
  const none: AxisGroup = { dims: [], broadcast: operands.map(() => true) };
  if (groups.length > 3) {
    throw new Error(`internal: elementwise codegen broadcasts along at most three runs of axes; got [${shape.join(',')}] from ${operands.map((o) => `[${o.join(',')}]`).join(', ')}`);
  }
  if (groups.length === 3) return [groups[0]!, groups[1]!, groups[2]!];
  if (groups.length === 2) return [null, groups[0]!, groups[1]!];
  return [null, none, groups[0] ?? none];
}

/**
 * The loop of one elementwise kernel. With `columnSums` (the address of a [cols] buffer) the
 * kernel also sums its [rows, cols] output over the rows while each value is still in a
 * register: a bias gradient taken in the pass that computes the layer's gradient, in the same
 * row order as `sum_rows`, so the sums are the same floats.
 *
 * With `sink` 'finite' nothing is stored: the loop computes every value and the code returns
 * whether all are finite (x − x is 0 for finite x, NaN otherwise, and NaN sticks in a sum), which
 * the guard uses to check a value that will be written in place before writing it.
 */
export function emitElementwise(
  template: Extract<Template<unknown>, { kind: 'elementwise' }>,
  node: Node,
  inputs: readonly Node[],
  out: string,
  ins: readonly string[],
  dim: (d: Dim) => string,
  columnSums?: string,
  sink: 'store' | 'finite' = 'store',
): string {
  return elementwiseLoop([template, node, inputs, out, ins, dim], columnSums, sink, false)!;
}

/** What an elementwise loop computes: the template over its operands, the output node, its inputs, their addresses, the dimensions. */
type LoopOperands = readonly [template: Extract<Template<unknown>, { kind: 'elementwise' }>, node: Node, inputs: readonly Node[], out: string, ins: readonly string[], dim: (d: Dim) => string];

/**
 * The code of part `part` of `parts` of an elementwise kernel (threaded build): a range of its
 * elements, whole f32x4 groups, computed by the same instructions as in the whole loop, so any
 * split gives the same bits; with `columnSums`, a range of its columns, whole f32x4 groups, over
 * every row, each column summed in the same row order as in the whole loop. Null where the kernel
 * is neither one flat loop over its elements nor, with column sums, one loop over rows.
 */
export function emitElementwiseInParts(operands: LoopOperands, columnSums?: string): string | null {
  return elementwiseLoop(operands, columnSums, 'store', true);
}

function elementwiseLoop([template, node, inputs, out, ins, dim]: LoopOperands, columnSums: string | undefined, sink: 'store' | 'finite', inParts: boolean): string | null {
  if (columnSums !== undefined && node.shape.length < 2) throw new Error(`internal: column sums of a rank-${node.shape.length} kernel`);
  const [outerAxes, rowAxes, colAxes] = loopView(node.shape, inputs.map((input) => (input.op === 'constant' ? [] : input.shape)), columnSums !== undefined);
  const size = (dims: readonly Dim[]): string => dims.map(dim).join(' * ') || '1';
  const R = size(rowAxes.dims);
  const C = size(colAxes.dims);
  const hasRows = rowAxes.dims.length > 0;
  const operands: Operand[] = inputs.map((input, k) => {
    if (input.op === 'constant') return { kind: 'literal', value: f32Literal(input.attrs.value) };
    const colBroadcast = colAxes.dims.length > 0 && colAxes.broadcast[k]!;
    const rowStride = hasRows && rowAxes.broadcast[k] ? null : colBroadcast ? '1' : C;
    // Along the outer loop an operand steps by its whole [rows, cols] block (or stays, broadcast).
    const block = [rowStride === null ? '1' : R, colBroadcast ? '1' : C].filter((e) => e !== '1').join(' * ') || '1';
    const ptr = outerAxes && !outerAxes.broadcast[k] ? `(${ins[k]!} + ((<usize>o * <usize>${block}) << 2))` : ins[k]!;
    return { kind: 'buffer', ptr, rowStride, colBroadcast, counter: isCounter(input) };
  });
  // Same-shape operands and scalars need no row structure: one flat loop over R·C elements.
  const flat =
    columnSums === undefined &&
    operands.every((o) => o.kind === 'literal' || (o.rowStride !== null && !o.colBroadcast) || (o.rowStride === null && o.colBroadcast) || !hasRows);
  if (inParts && (outerAxes || (!flat && columnSums === undefined))) return null;
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

  const inner = (outBase: string, bases: readonly string[], count: string, from = '0'): void => {
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
      if (sink === 'finite') {
        const bad = word.store === 'v128.store' ? 'bad4' : 'bad';
        lines.push(`    ${head} {`, `      const v = ${value};`, `      ${bad} = ${word.add(bad, word.store === 'v128.store' ? 'f32x4.sub(v, v)' : 'v - v')};`, `    }`);
        return;
      }
      if (columnSums === undefined) {
        lines.push(`    ${head} ${word.store}(${at}, ${value});`);
        return;
      }
      lines.push(`    ${head} {`, `      const v = ${value};`, `      ${word.store}(${at}, v);`);
      lines.push(`      const s = ${columnSums} + (<usize>j << 2);`, `      ${word.store}(s, ${word.add(`${word.load}(s)`, 'v')});`, `    }`);
    };
    lines.push(`    let j = ${from};`);
    if (template.simd) {
      const vecArgs = operands.map((o, k) => (o.kind === 'literal' ? vectors[k]! : o.colBroadcast ? `v${k}` : loadVector(o, `${bases[k]} + (<usize>j << 2)`)));
      columns(`for (; j + 4 <= ${count}; j += 4)`, template.simd(...vecArgs), { store: 'v128.store', load: 'v128.load', add: (a, b) => `f32x4.add(${a}, ${b})` });
    }
    columns(`for (; j < ${count}; j++)`, template.scalar(...scalarArgs), { store: 'store<f32>', load: 'load<f32>', add: (a, b) => `${a} + ${b}` });
  };

  if (sink === 'finite') lines.push(`  let bad4 = f32x4.splat(0);`, `  let bad: f32 = 0;`);
  const outBlock = outerAxes ? `(${out} + ((<usize>o * <usize>${size([...rowAxes.dims, ...colAxes.dims])}) << 2))` : out;
  if (outerAxes) lines.push(`  for (let o = 0; o < ${size(outerAxes.dims)}; o++) {`);
  if (flat && inParts) {
    // Part −1 (what precedes the parts) has nothing to do; the element ranges are whole f32x4
    // groups, the scalar tail in the last part as in the whole loop (part_first: codegen/threaded.ts).
    const total = size([...rowAxes.dims, ...colAxes.dims]);
    lines.push(`  if (part < 0) return;`, `  {`, `    const total = ${total};`, `    const end = part_first(total, 4, part + 1, parts);`);
    inner(outBlock, operands.map((o) => (o.kind === 'buffer' ? o.ptr : '')), 'end', 'part_first(total, 4, part, parts)');
    lines.push(`  }`);
  } else if (flat) {
    const total = size([...rowAxes.dims, ...colAxes.dims]);
    lines.push(`  {`);
    inner(outBlock, operands.map((o) => (o.kind === 'buffer' ? o.ptr : '')), total);
    lines.push(`  }`);
  } else {
    // Every row over its columns: all of them, or in parts (column sums) part p's columns
    // [jFrom, jTo), whole f32x4 groups, the scalar tail in the last part; part −1 has nothing to do.
    if (inParts) lines.push(`  if (part < 0) return;`, `  const jFrom = part_first(${C}, 4, part, parts);`, `  const jTo = part_first(${C}, 4, part + 1, parts);`);
    if (columnSums !== undefined) lines.push(inParts ? `  memory.fill(${columnSums} + (<usize>jFrom << 2), 0, <usize>(jTo - jFrom) << 2);` : `  memory.fill(${columnSums}, 0, <usize>${C} << 2);`);
    lines.push(`  for (let i = 0; i < ${R}; i++) {`);
    const outBase = `${outBlock} + ((<usize>i * <usize>${C}) << 2)`;
    inner(outBase, operands.map((o) => (o.kind === 'buffer' ? rowBase(o, 'i') : '')), inParts ? 'jTo' : C, inParts ? 'jFrom' : '0');
    lines.push(`  }`);
  }
  if (outerAxes) lines.push(`  }`);
  if (sink === 'finite') lines.push(`  return bad + f32x4.extract_lane(bad4, 0) + f32x4.extract_lane(bad4, 1) + f32x4.extract_lane(bad4, 2) + f32x4.extract_lane(bad4, 3) == 0;`);
  return lines.join('\n');
}
