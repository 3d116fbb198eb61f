// The GEMM generator: register-blocked f32x4 code for one matrix product, specialised to its
// compiled shapes. C[M,N] = Σ_k A(i,k)·B(k,j), with A and B reached through byte strides, so
// one generator covers the three products of a dense layer without storing a transpose:
//
//   X·Wᵀ  (forward)      A = X [M,K] by rows,  B = W [N,K] packed into K×8 column panels
//   dY·W  (input grad)   A = dY [M,K] by rows, B = W [K,N] read in place (rows are panels)
//   dYᵀ·X (weight grad)  A = dY [K,M] packed into K×4 column panels, B = X [K,N] read in place
//
// The micro-kernel holds an MR×8 block of C in MR·2 f32x4 accumulators (4×8: 8 accumulators,
// 2 B vectors, 1 broadcast), and walks k with one pointer per operand, A's pointer also ending
// the loop, so a step of k carries no counter of its own; rows of A are reached by constant load
// offsets. Tails: row blocks of 2, 1 after the 4s; a last panel narrower than 8 computes 4 or 8
// lanes from memory that is in bounds (the arena has headroom) and stores only its real columns.
// Nothing is inlined across calls: each product is one straight loop nest (an inlined micro-kernel
// loses its register allocation; docs/architecture.md, "GEMM", has the measurements).
//
// An epilogue adds a bias row and applies an activation before the store (forward fusion), or
// combines the product with what C holds (an optimizer update written over the weights).

/** A dimension: its AssemblyScript expression, and its value when known at compile time. */
export interface GemmDim {
  readonly expr: string;
  readonly value?: number;
}

export interface GemmEpilogue {
  /** Byte address of a [N] bias added to every row. */
  readonly bias?: string;
  /** f32x4 expression of the activation applied to `v`. */
  readonly activation?: (v: string) => string;
  /** The f32x4 stored, from the computed `value` and `old`, what C holds there: an update written in place (w − η·g). */
  readonly combine?: (value: string, old: string) => string;
  /**
   * Statements run after each block's k loop, before its stores: operands of `combine` (loaded
   * there, not before the product, so they hold no register while the 8 accumulators do).
   */
  readonly setup?: readonly string[];
}

export interface GemmSpec {
  readonly c: string;
  readonly a: string;
  readonly b: string;
  readonly M: GemmDim;
  readonly K: GemmDim;
  /** Columns of C: always a compiled size (a layer width). */
  readonly N: number;
  /** Bytes between rows i of A, and between steps k (each a compiled constant). */
  readonly aRow: number;
  readonly aK: number;
  /** B's layout: packed (the generator packs it from [N,K] into `scratch`) or rows of N. */
  readonly bLayout: { readonly kind: 'packed'; readonly scratch: string } | { readonly kind: 'rows' };
  /** A given as [K,M] read by columns, packed first into 4-column panels at `scratch` (then aRow is 4, aK 16). */
  readonly aPacked?: { readonly scratch: string };
  readonly epilogue?: GemmEpilogue;
}

// 8 accumulators: more (10–12) spill, since V8 allocates only xmm0–15 and keeps some for itself
// (docs/architecture.md, "GEMM").
export const MR = 4;
const NR = 8;

/** Scratch bytes a packed product needs: ⌈N/8⌉ panels of K×8 floats. */
export function packedBytes(N: number, K: number): number {
  return Math.ceil(N / NR) * NR * K * 4;
}

/** Scratch bytes of a packed [K,M] A operand: ⌈M/4⌉ panels of K×4 floats. */
export function packedColumnsBytes(M: number, K: number): number {
  return Math.ceil(M / 4) * 4 * K * 4;
}

/** One MR×(4·vectors) block: accumulate over k, then epilogue and store `width` columns. */
function block(s: GemmSpec, rows: number, vectors: number, width: number, bK: number, indent: string): string[] {
  const acc = (r: number, v: number): string => `c${r}_${v}`;
  const lines: string[] = [];
  const R = [...Array(rows).keys()];
  const V = [...Array(vectors).keys()];
  for (const r of R) for (const v of V) lines.push(`let ${acc(r, v)} = f32x4.splat(0);`);
  lines.push(`let ap = aBase; let bp = bBase;`);
  lines.push(`const aEnd = aBase + <usize>${s.K.expr} * ${s.aK};`);
  lines.push(`while (ap < aEnd) {`);
  for (const v of V) lines.push(`  const b${v} = v128.load(bp, ${v * 16});`);
  for (const r of R) {
    lines.push(`  const x${r} = v128.load32_splat(ap, ${r * s.aRow});`);
    for (const v of V) lines.push(`  ${acc(r, v)} = madd(x${r}, b${v}, ${acc(r, v)});`);
  }
  lines.push(`  ap += ${s.aK}; bp += ${bK};`);
  lines.push(`}`);
  const ep = s.epilogue;
  lines.push(...(ep?.setup ?? []));
  if (ep?.bias) for (const v of V) lines.push(`const bias${v} = v128.load(${ep.bias} + (<usize>j << 2), ${v * 16});`);
  // A helper-function activation (nabla_tanh4: ~60 instructions, inlined) is applied by one loop
  // over the stored block instead of at each of its MR·2 stores: one copy of its body per block
  // instead of MR·2, which halves the .wasm of a tanh network at a small cost in step time.
  const heavy = ep?.activation !== undefined && /nabla_\w+\(/.test(ep.activation('v')) && width === vectors * 4;
  for (const r of R) {
    for (const v of V) {
      let value = acc(r, v);
      if (ep?.bias) value = `f32x4.add(${value}, bias${v})`;
      if (ep?.activation && !heavy) value = ep.activation(value);
      const offset = r * s.N * 4 + v * 16;
      if (ep?.combine) value = ep.combine(value, `v128.load(cBase, ${offset})`);
      const lanes = Math.min(4, width - v * 4);
      if (lanes === 4) lines.push(`v128.store(cBase, ${value}, ${offset});`);
      else if (lanes > 0) {
        lines.push(`{ const t = ${value};`);
        for (let q = 0; q < lanes; q++) lines.push(`  store<f32>(cBase, f32x4.extract_lane(t, ${q}), ${offset + q * 4});`);
        lines.push(`}`);
      }
    }
  }
  if (heavy) {
    lines.push(`for (let q = 0; q < ${rows * vectors}; q++) {`);
    lines.push(`  const p = cBase + <usize>(q / ${vectors}) * ${s.N * 4} + <usize>(q % ${vectors}) * 16;`);
    lines.push(`  v128.store(p, ${ep!.activation!('v128.load(p)')});`);
    lines.push(`}`);
  }
  return lines.map((l) => indent + l);
}

/** Address of A's row i: in place, or inside its packed 4-column panel. */
function aRowBase(s: GemmSpec): string {
  return s.aPacked ? `${s.aPacked.scratch} + <usize>(i >> 2) * (<usize>${s.K.expr} << 4) + (<usize>(i & 3) << 2)` : `${s.a} + <usize>i * ${s.aRow}`;
}

/** Row blocks for one panel: MR rows while they fit, then the 2/1 tail (only those a known M needs). */
function rowBlocks(s: GemmSpec, vectors: number, width: number, bK: number): string[] {
  const lines: string[] = [`    let i = 0;`];
  const rowStep = (rows: number, loop: boolean, indent: string): void => {
    lines.push(`${indent}{`);
    lines.push(`${indent}  const aBase = ${aRowBase(s)}; const cBase = ${s.c} + ((<usize>i * ${s.N} + <usize>j) << 2);`);
    lines.push(...block(s, rows, vectors, width, bK, `${indent}  `));
    lines.push(`${indent}}`);
    lines.push(`${indent}i += ${rows};`);
    if (!loop) return;
  };
  const M = s.M.value;
  const full = M === undefined ? undefined : Math.floor(M / MR) * MR;
  if (full === undefined || full > 0) {
    lines.push(`    for (; i + ${MR} <= ${s.M.expr};) {`);
    rowStep(MR, true, '      ');
    lines.push(`    }`);
  }
  let left = M === undefined ? undefined : M - (full ?? 0);
  for (const rows of [4, 2, 1].filter((r) => r < MR)) {
    if (left !== undefined && left < rows) continue;
    if (left !== undefined) {
      rowStep(rows, false, '    ');
      left -= rows;
    } else {
      lines.push(`    if (i + ${rows} <= ${s.M.expr}) {`);
      rowStep(rows, false, '      ');
      lines.push(`    }`);
    }
  }
  return lines;
}

/** The whole product as AssemblyScript statements (the body of the node's function). */
export function emitGemm(s: GemmSpec): string {
  const lines: string[] = [];
  const K = s.K.value;
  if (s.aPacked) lines.push(`  pack_cols4(${s.aPacked.scratch}, ${s.a}, ${s.K.expr}, ${s.M.expr});`);
  let panelBase: (j: string) => string;
  let bK: number;
  if (s.bLayout.kind === 'packed') {
    if (K === undefined) throw new Error('internal: a packed GEMM operand needs a compiled K');
    // W [N,K] → panels [⌈N/8⌉][K][8] (assembly/pack.ts), columns past N zero.
    lines.push(`  pack_panels(${s.bLayout.scratch}, ${s.b}, ${s.N}, ${K});`);
    const scratch = s.bLayout.scratch;
    panelBase = (j) => `${scratch} + <usize>${j} * ${K * 4}`;
    bK = NR * 4;
  } else {
    panelBase = (j) => `${s.b} + (<usize>${j} << 2)`;
    bK = s.N * 4;
  }
  // Panel widths: full 8s, then the remainder as one 8- or 4-wide panel with partial stores.
  const fullPanels = Math.floor(s.N / NR);
  const rem = s.N - fullPanels * NR;
  const panel = (vectors: number, width: number, j: string, loop: boolean): void => {
    lines.push(loop ? `  for (let j = 0; j < ${fullPanels * NR}; j += ${NR}) {` : `  {`);
    if (!loop) lines.push(`    const j = ${j};`);
    lines.push(`    const bBase = ${panelBase('j')};`);
    lines.push(...rowBlocks(s, vectors, width, bK));
    lines.push(`  }`);
  };
  if (fullPanels > 0) panel(NR / 4, NR, '0', true);
  // A packed panel is always 8 wide (zero padded); an in-place one reads 4 or 8 lanes.
  if (rem > 0) panel(s.bLayout.kind === 'packed' ? NR / 4 : Math.ceil(rem / 4), rem, String(fullPanels * NR), false);
  return lines.join('\n');
}
