// The GEMM generator: register-blocked f32x4 code for one matrix product, specialised to its
// compiled shapes. C[M,N] = Σ_k A(i,k)·B(k,j), with A and B reached through byte strides, so
// one generator covers the three products of a dense layer without storing a transpose:
//
//   X·Wᵀ  (forward)      A = X [M,K] by rows,  B = W [N,K] packed into K×8 column panels
//   dY·W  (input grad)   A = dY [M,K] by rows, B = W [K,N] read in place (rows are panels)
//   dYᵀ·X (weight grad)  A = dY [K,M] packed into K×4 column panels, B = X [K,N] read in place;
//                        over a long K both read in place by rows (emitColumns)
//
// The micro-kernel holds an MR×8 block of C in MR·2 f32x4 accumulators (4×8: 8 accumulators,
// 2 B vectors, 1 broadcast), and walks k with one pointer per operand, A's pointer also ending
// the loop, so a step of k carries no counter of its own; rows of A are reached by constant load
// offsets. Tails: row blocks of 2, 1 after the 4s; a last panel narrower than 8 computes 4 or 8
// lanes from memory that is in bounds (the arena has headroom) and stores only its real columns.
// Nothing is inlined across calls: each product is one straight loop nest (an inlined micro-kernel
// loses its register allocation; docs/architecture.md, "GEMM", has the measurements).
//
// Around the micro-kernel, loops over K blocks and row blocks keep the B panel in L1 and a block
// of A in L2 for the large products (gemmBlocking; a batch dimension is blocked only where its
// compiled bound may not fit). Panels are the outer loop, row blocks for a short K (the weight
// gradient at a small batch: C written row after row). X·Wᵀ on fewer than DIRECT_ROWS rows skips
// the packing and takes dot products of X's rows with W's rows in place (emitDirect). A K of one
// (the weight gradient of a trainer compiled for batch 1) is an outer product: no k loop, no
// packing (unitK).
//
// An epilogue adds a bias row and applies an activation before the store (forward fusion); with
// K in blocks, on the last block only. Or it combines the product with what C holds (an
// optimizer update written over the weights; K unblocked only, as C holds no partial sums then).

/** A dimension: its AssemblyScript expression, and its value when known at compile time. */
export interface GemmDim {
  readonly expr: string;
  readonly value?: number;
  /** The largest value of a dimension known only at run time (the batch: the compiled batch size). */
  readonly bound?: number;
}

export interface GemmEpilogue {
  /** Byte address of a [N] bias added to every row. */
  readonly bias?: string;
  /** f32x4 expression of the activation applied to `v`. */
  readonly activation?: (v: string) => string;
  /**
   * Byte address of a second [M,N] output that takes the activation, C then keeping the value
   * before it, which other kernels read too (gelu's derivative in the backward pass).
   */
  readonly activationOut?: string;
  /**
   * Byte address of a second [M,N] output that takes the activation's derivative at the value
   * before it (C takes the activation), from `withDerivative`, which computes both (gelu and gelu′
   * share e^(−x²/2)) and stores the derivative's four lanes itself: N a multiple of 4.
   */
  readonly derivativeOut?: string;
  readonly withDerivative?: (v: string, dst: string) => string;
  /**
   * Byte address of an [M,N] tensor added to the result after the bias (a residual connection:
   * x + (h·Wᵀ + b)), read at C's offset in its own buffer. Not with an activation.
   */
  readonly residual?: string;
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
  /**
   * A given as [K,M] read by columns, packed first into 4-column panels at `scratch` (then aRow is
   * 4, aK 16) where K is short (packsColumns); over a longer K read in place by rows (emitColumns).
   */
  readonly aPacked?: { readonly scratch: string };
  readonly epilogue?: GemmEpilogue;
  /**
   * Threaded build: the body computes only the 8-column panels of part `part` of `parts` (i32
   * parameters of the kernel), each column exactly as the whole product computes it, so any split
   * gives the same bits. A part packs its own panels of B; a packed A, which every part reads
   * whole, is packed by a call with part −1 before the parts run (splitPrologue).
   */
  readonly split?: boolean;
}

// 8 accumulators: more (10–12) spill, since V8 allocates only xmm0–15 and keeps some for itself
// (docs/architecture.md, "GEMM").
export const MR = 4;
const NR = 8;

/**
 * Whether K is one: the weight gradient dYᵀ·X of a trainer compiled for batch 1 (K is then the
 * batch n, bounded by 1 and never 0). The product is an outer product: no k loop, nothing to pack
 * (A's one row is its own 4-column panels), and each row's value of A is loaded once for all the
 * panels of its row block (`hoistedA`).
 */
function unitK(s: Pick<GemmSpec, 'K'>): boolean {
  return kBound(s) === 1;
}

/** K's compiled value, or its bound where K is the batch. */
function kBound(s: Pick<GemmSpec, 'K'>): number {
  return s.K.value ?? s.K.bound ?? Infinity;
}

/**
 * The `pack_cols4` call that packs dY into 4-column panels before dYᵀ·X, where the product reads
 * it packed: a short K (packsColumns), but not a K of one (unitK). Without `split` on every call,
 * with it once, in part −1 (splitPrologue).
 */
function packA(s: GemmSpec): string[] {
  return s.aPacked && !unitK(s) && packsColumns(kBound(s)) ? [`pack_cols4(${s.aPacked.scratch}, ${s.a}, ${s.K.expr}, ${s.M.expr});`] : [];
}

/** Scratch bytes a packed product needs: ⌈N/8⌉ panels of K×8 floats. */
export function packedBytes(N: number, K: number): number {
  return Math.ceil(N / NR) * NR * K * 4;
}

/** Scratch bytes of a packed [K,M] A operand: ⌈M/4⌉ panels of K×4 floats. */
export function packedColumnsBytes(M: number, K: number): number {
  return Math.ceil(M / 4) * 4 * K * 4;
}

/**
 * Cache blocking, fixed at compile time from the operand layouts (docs/architecture.md, "GEMM",
 * has the measurements). K is cut into blocks of `kc` steps, so the B panel a row block walks
 * (kc × 8 floats, packed or in place) stays in L1 beside the A rows; rows into blocks of `mc`,
 * so an mc × kc block of A stays in L2 while every panel of B passes over it. Undefined where
 * a dimension fits whole (then no loop is emitted for it).
 */
interface Blocking {
  readonly kc?: number;
  readonly mc?: number;
  /**
   * Which loop is outer: column panels (a B panel stays in L1 while the rows of A pass), or, for
   * a short K, row blocks (C is then written row after row, and a row block's A stays in
   * registers and L1 while all of B, a few rows, passes).
   */
  readonly order: 'panels' | 'rows';
}

/** Bytes of L1 the B panel and the A rows of one k block may fill, and of L2 one A block. */
const L1_BLOCK_BYTES = 40 << 10;
const L2_BLOCK_BYTES = 512 << 10;
/** K up to which row blocks are the outer loop (the weight gradient at a small batch). */
const SHORT_K = 16;

export function gemmBlocking(s: Pick<GemmSpec, 'M' | 'K' | 'bLayout'>): Blocking {
  // Per step of k: a packed B panel reads 32 contiguous bytes; an in-place one 32 bytes of a
  // different line (64 bytes of cache); A 4 floats (in place: 4 rows' lines, 16 bytes a step).
  const perK = (s.bLayout.kind === 'packed' ? 32 : 64) + 16;
  const kc = Math.max(64, Math.floor(L1_BLOCK_BYTES / perK / 16) * 16);
  // A run-time dimension is blocked unless its bound fits one block.
  const most = (d: GemmDim): number => d.value ?? d.bound ?? Infinity;
  const kBlocked = most(s.K) > kc;
  const span = kBlocked ? kc : most(s.K);
  const mc = Math.max(16, Math.floor(L2_BLOCK_BYTES / (span * 4) / 16) * 16);
  const mBlocked = most(s.M) > mc;
  const order = most(s.K) <= SHORT_K ? 'rows' : 'panels';
  return { ...(kBlocked ? { kc } : {}), ...(mBlocked ? { mc } : {}), order };
}

/** One MR×(4·vectors) block: accumulate over k (a k block), then epilogue and store `width` columns. */
function block(s: GemmSpec, rows: number, vectors: number, width: number, bK: number, kBlocked: boolean, indent: string): string[] {
  const acc = (r: number, v: number): string => `c${r}_${v}`;
  const lines: string[] = [];
  const R = [...Array(rows).keys()];
  const V = [...Array(vectors).keys()];
  const offset = (r: number, v: number): number => r * s.N * 4 + v * 16;
  // One step of k into the accumulators `into`, from k `at` steps ahead of ap and bp; the first
  // step of an unblocked K declares them with its products (K, a batch or a width, is never 0).
  const step = (into: (r: number, v: number) => string, at: number, tag: string, first = false): void => {
    const pad = first ? '' : '  ';
    for (const v of V) lines.push(`${pad}const b${tag}${v} = v128.load(bp, ${at * bK + v * 16});`);
    for (const r of R) {
      lines.push(`${pad}const x${tag}${r} = v128.load32_splat(ap, ${at * s.aK + r * s.aRow});`);
      for (const v of V) lines.push(first ? `let ${into(r, v)} = f32x4.mul(x${tag}${r}, b${tag}${v});` : `${pad}${into(r, v)} = madd(x${tag}${r}, b${tag}${v}, ${into(r, v)});`);
    }
  };
  const split = rows * vectors <= 2;
  const unit = unitK(s);
  if (unit) {
    // One step of k: the products of A's values (xf, loaded by the row block) and B's row.
    for (const v of V) lines.push(`const bf${v} = v128.load(bBase, ${v * 16});`);
    for (const r of R) for (const v of V) lines.push(`let ${acc(r, v)} = f32x4.mul(xf${r}, bf${v});`);
  } else {
  lines.push(`let ap = aBase; let bp = bBase;`);
  // A later k block adds to what the earlier ones stored, the first to nothing: C masked by
  // `later` (all ones after the first block), which costs less than a branch on a short block
  // (lanes past a narrow panel's columns are read from in-bounds memory and never stored back).
  if (kBlocked) for (const r of R) for (const v of V) lines.push(`let ${acc(r, v)} = v128.and(v128.load(cBase, ${offset(r, v)}), later);`);
  else if (split) for (const r of R) for (const v of V) lines.push(`let ${acc(r, v)} = f32x4.splat(0);`);
  else {
    step(acc, 0, 'f', true);
    lines.push(`ap += ${s.aK}; bp += ${bK};`);
  }
  lines.push(kBlocked ? `const aEnd = aBase + kLen * ${s.aK};` : `const aEnd = aBase + <usize>${s.K.expr} * ${s.aK};`);
  // A block of one or two accumulators (one row of a panel) would wait on its one or two
  // multiply-add chains: it takes k two steps at a time into two sets, added at the end (with four,
  // the 2-row tail, measured ×1.06 slower so: bench:ab:gemm, W1's 128→10 weight gradient).
  if (split) {
    const odd = (r: number, v: number): string => `d${r}_${v}`;
    for (const r of R) for (const v of V) lines.push(`let ${odd(r, v)} = f32x4.splat(0);`);
    lines.push(`while (ap + ${s.aK} < aEnd) {`);
    step(acc, 0, '');
    step(odd, 1, 'o');
    lines.push(`  ap += ${2 * s.aK}; bp += ${2 * bK};`);
    lines.push(`}`);
    lines.push(`if (ap < aEnd) {`);
    step(acc, 0, '');
    lines.push(`}`);
    for (const r of R) for (const v of V) lines.push(`${acc(r, v)} = f32x4.add(${acc(r, v)}, ${odd(r, v)});`);
  } else {
    lines.push(`while (ap < aEnd) {`);
    step(acc, 0, '');
    lines.push(`  ap += ${s.aK}; bp += ${bK};`);
    lines.push(`}`);
  }
  }
  const stores = (ep: GemmEpilogue | undefined): string[] => {
    // Without a k loop the setup holds no register against accumulators: it runs once, before the loops (emitBlocked).
    const out: string[] = unit ? [] : [...(ep?.setup ?? [])];
    if (ep?.combine && kBlocked) throw new Error('internal: a combining GEMM epilogue with K in blocks');
    if (ep?.combine && ep.activationOut !== undefined) throw new Error('internal: a combining GEMM epilogue with a second output');
    if (ep?.residual !== undefined && (ep.activation !== undefined || ep.combine)) throw new Error('internal: a residual GEMM epilogue with an activation or a combine');
    if (ep?.bias) for (const v of V) out.push(`const bias${v} = v128.load(${ep.bias} + (<usize>j << 2), ${v * 16});`);
    // The residual's element lies at the same offset in its buffer as C's element in C; so does the derivative's.
    if (ep?.residual !== undefined) out.push(`const rBase = cBase + (${ep.residual} - ${s.c});`);
    const paired = ep?.derivativeOut !== undefined ? ep.withDerivative! : undefined;
    if (paired) out.push(`const dBase = cBase + (${ep!.derivativeOut} - ${s.c});`);
    // The activation's own output lies at the same offset in its buffer as C's element in C.
    const keep = ep?.activation !== undefined && ep.activationOut !== undefined;
    if (keep) out.push(`const yBase = cBase + (${ep!.activationOut} - ${s.c});`);
    // A helper-function activation (nabla_tanh4: ~60 instructions, inlined) is applied by one loop
    // over the stored block instead of at each of its MR·2 stores: one copy of its body per block
    // instead of MR·2, which halves the .wasm of a tanh network at a small cost in step time.
    const heavy = ep?.activation !== undefined && /nabla_\w+\(/.test(ep.activation('v')) && width === vectors * 4;
    const put = (base: string, value: string, at: number, lanes: number, pad = ''): void => {
      if (lanes === 4) out.push(`${pad}v128.store(${base}, ${value}, ${at});`);
      else if (lanes > 0) {
        out.push(`${pad}{ const t = ${value};`);
        for (let q = 0; q < lanes; q++) out.push(`${pad}  store<f32>(${base}, f32x4.extract_lane(t, ${q}), ${at + q * 4});`);
        out.push(`${pad}}`);
      }
    };
    for (const r of R) {
      for (const v of V) {
        let value = acc(r, v);
        if (ep?.bias) value = `f32x4.add(${value}, bias${v})`;
        if (ep?.residual !== undefined) value = `f32x4.add(${value}, v128.load(rBase, ${offset(r, v)}))`;
        const lanes = Math.min(4, width - v * 4);
        if (keep && !heavy) {
          out.push(`{ const z = ${value};`);
          put('cBase', 'z', offset(r, v), lanes, '  ');
          put('yBase', ep!.activation!('z'), offset(r, v), lanes, '  ');
          out.push(`}`);
          continue;
        }
        if (paired && !heavy && lanes > 0) {
          if (lanes !== 4) throw new Error('internal: a GEMM epilogue storing a derivative on a partial vector');
          value = paired(value, `dBase + ${offset(r, v)}`);
        } else if (ep?.activation && !heavy) value = ep.activation(value);
        if (ep?.combine) value = ep.combine(value, `v128.load(cBase, ${offset(r, v)})`);
        put('cBase', value, offset(r, v), lanes);
      }
    }
    if (heavy) {
      out.push(`for (let q = 0; q < ${rows * vectors}; q++) {`);
      out.push(`  const p = cBase + <usize>(q / ${vectors}) * ${s.N * 4} + <usize>(q % ${vectors}) * 16;`);
      out.push(`  v128.store(${keep ? 'p - cBase + yBase' : 'p'}, ${paired ? paired('v128.load(p)', 'p - cBase + dBase') : ep!.activation!('v128.load(p)')});`);
      out.push(`}`);
    }
    return out;
  };
  // The epilogue runs once, on the last k block; earlier blocks store the partial sums as they are.
  if (kBlocked && s.epilogue) {
    lines.push(`if (k0 + kLen < <usize>${s.K.expr}) {`, ...stores(undefined).map((l) => `  ${l}`), `} else {`, ...stores(s.epilogue).map((l) => `  ${l}`), `}`);
  } else lines.push(...stores(s.epilogue));
  return lines.map((l) => indent + l);
}

/** Address of A's row i at step k0: in place, or inside its packed 4-column panel. */
function aRowBase(s: GemmSpec, kBlocked: boolean): string {
  const k0 = kBlocked ? ` + k0 * ${s.aK}` : '';
  if (unitK(s)) return `${s.a} + <usize>i * ${s.aRow}`;
  return s.aPacked ? `${s.aPacked.scratch} + <usize>(i >> 2) * (<usize>${s.K.expr} << 4) + (<usize>(i & 3) << 2)${k0}` : `${s.a} + <usize>i * ${s.aRow}${k0}`;
}

/** A loop over row blocks or column panels: lines before and after the code of one block. */
interface Loop {
  readonly open: readonly string[];
  readonly close: readonly string[];
}

/**
 * The row blocks: MR rows while they fit, then the 2/1 tail (only those a known M needs), over
 * rows [i0, iEnd) where rows are blocked, else over all M. `i` is declared by `init`.
 */
function rowLoops(s: GemmSpec, blocking: Blocking): { readonly init: string; readonly loops: readonly (Loop & { readonly rows: number })[] } {
  const mBlocked = blocking.mc !== undefined;
  const end = mBlocked ? 'iEnd' : s.M.expr;
  const loops: (Loop & { rows: number })[] = [];
  const next = (rows: number): string[] => [`  i += ${rows};`, `}`];
  // A known M fixes its tail at compile time, unless rows are blocked (then only the last block has it).
  const M = mBlocked ? undefined : s.M.value;
  const full = M === undefined ? undefined : Math.floor(M / MR) * MR;
  if (full === undefined || full > 0) loops.push({ rows: MR, open: [`for (; i + ${MR} <= ${end};) {`], close: next(MR) });
  let left = M === undefined ? undefined : M - (full ?? 0);
  for (const rows of [4, 2, 1].filter((r) => r < MR)) {
    if (left !== undefined && left < rows) continue;
    if (left !== undefined) left -= rows;
    loops.push({ rows, open: [left !== undefined ? `{` : `if (i + ${rows} <= ${end}) {`], close: next(rows) });
  }
  return { init: mBlocked ? `let i = i0;` : `let i = 0;`, loops };
}

/**
 * Rows of X·Wᵀ below this count skip packing W: packing reads and writes all of W (about
 * what 8 rows of the packed product cost), the direct form reads W once per 2 rows.
 */
export const DIRECT_ROWS = 16;

/** Horizontal sums of four f32x4 as one f32x4: lane q is the sum of the lanes of `v[q]`. */
function sum4(v: readonly string[]): string[] {
  return [
    `const s01 = f32x4.add(v128.shuffle<f32>(${v[0]}, ${v[1]}, 0, 4, 1, 5), v128.shuffle<f32>(${v[0]}, ${v[1]}, 2, 6, 3, 7));`,
    `const s23 = f32x4.add(v128.shuffle<f32>(${v[2]}, ${v[3]}, 0, 4, 1, 5), v128.shuffle<f32>(${v[2]}, ${v[3]}, 2, 6, 3, 7));`,
    `let t = f32x4.add(v128.shuffle<f32>(s01, s23, 0, 1, 4, 5), v128.shuffle<f32>(s01, s23, 2, 3, 6, 7));`,
  ];
}

/**
 * X·Wᵀ for a few rows, W [N,K] read in place: each (2 rows of X) × (4 rows of W) block is 8
 * dot products accumulated in f32x4 over k, summed across lanes at the end into one f32x4 of 4
 * output columns per row, which the epilogue then treats as any other. A last group of fewer
 * than 4 columns reads W's last row for its missing ones and stores only its real columns.
 * A block of one row steps by a product and a sum, not `madd`, in both builds: its four sums
 * each wait on their own previous value, and a sum alone is a shorter wait than relaxed SIMD's
 * fused multiply-add (W1's first layer at batch 1, 784 × 256: ×0.83 of the fused form's time;
 * more sums or rows at once to hide the wait measured slower). The 2-row block, 8 sums, keeps
 * `madd` (the product and sum apart measured ×1.03 slower at W1's batch 8).
 */
function emitDirect(s: GemmSpec): string[] {
  const K = s.K.value!;
  const K4 = K & ~3;
  const lines: string[] = [];
  const group = (width: number, j: string, loop: boolean): void => {
    if (s.split) lines.push(loop ? `  for (let j = jFrom; j < min(jTo, ${s.N - (s.N % 4)}); j += 4) {` : `  if (jTo == ${s.N}) {`);
    else lines.push(loop ? `  for (let j = 0; j < ${s.N - (s.N % 4)}; j += 4) {` : `  {`);
    if (!loop) lines.push(`    const j = ${j};`);
    for (let q = 0; q < 4; q++) lines.push(`    const w${q} = ${s.b} + <usize>(j + ${Math.min(q, width - 1)}) * ${K * 4};`);
    const rowBlock = (rows: number, indent: string): void => {
      const R = [...Array(rows).keys()];
      const out: string[] = [];
      for (const r of R) out.push(`const x${r} = ${s.a} + <usize>(i + ${r}) * ${s.aRow};`);
      for (const r of R) for (let q = 0; q < 4; q++) out.push(`let c${r}_${q} = f32x4.splat(0);`);
      if (K4 > 0) {
        out.push(`for (let k: usize = 0; k < ${K4 * 4}; k += 16) {`);
        for (let q = 0; q < 4; q++) out.push(`  const b${q} = v128.load(w${q} + k);`);
        for (const r of R) {
          out.push(`  const a${r} = v128.load(x${r} + k);`);
          for (let q = 0; q < 4; q++) out.push(`  c${r}_${q} = ${rows === 1 ? `f32x4.add(f32x4.mul(a${r}, b${q}), c${r}_${q})` : `madd(a${r}, b${q}, c${r}_${q})`};`);
        }
        out.push(`}`);
      }
      const ep = s.epilogue;
      if (ep?.bias) out.push(`const bias = v128.load(${ep.bias} + (<usize>j << 2));`);
      for (const r of R) {
        out.push(`{`);
        out.push(...sum4([0, 1, 2, 3].map((q) => `c${r}_${q}`)).map((l) => `  ${l}`));
        // K not a multiple of 4: its last steps one column at a time.
        for (let k = K4; k < K; k++) {
          out.push(`  { const x = load<f32>(x${r}, ${k * 4});`);
          for (let q = 0; q < width; q++) out.push(`    t = f32x4.replace_lane(t, ${q}, f32x4.extract_lane(t, ${q}) + x * load<f32>(w${q}, ${k * 4}));`);
          out.push(`  }`);
        }
        let value = 't';
        if (ep?.bias) value = `f32x4.add(${value}, bias)`;
        const at = `((<usize>(i + ${r}) * ${s.N} + <usize>j) << 2)`;
        if (ep?.residual !== undefined) value = `f32x4.add(${value}, v128.load(${ep.residual} + ${at}))`;
        // `scoped`: in a block of its own, where two stores share the row's scope.
        const put = (base: string, v: string, scoped: boolean): void => {
          const pad = scoped ? '    ' : '  ';
          if (width === 4) out.push(`  v128.store(${base} + ${at}, ${v});`);
          else {
            if (scoped) out.push(`  {`);
            out.push(`${pad}const v = ${v}; const p = ${base} + ${at};`);
            for (let q = 0; q < width; q++) out.push(`${pad}store<f32>(p, f32x4.extract_lane(v, ${q}), ${q * 4});`);
            if (scoped) out.push(`  }`);
          }
        };
        // With a second output C keeps the value before the activation (GemmEpilogue.activationOut).
        if (ep?.activation && ep.activationOut !== undefined) {
          out.push(`  const z = ${value};`);
          put(s.c, 'z', true);
          put(ep.activationOut, ep.activation('z'), true);
        } else if (ep?.derivativeOut !== undefined) {
          if (width !== 4) throw new Error('internal: a GEMM epilogue storing a derivative on a partial vector');
          put(s.c, ep.withDerivative!(value, `${ep.derivativeOut} + ${at}`), false);
        } else put(s.c, ep?.activation ? ep.activation(value) : value, false);
        out.push(`}`);
      }
      lines.push(...out.map((l) => indent + l));
    };
    lines.push(`    let i = 0;`);
    lines.push(`    for (; i + 2 <= ${s.M.expr}; i += 2) {`);
    rowBlock(2, '      ');
    lines.push(`    }`);
    lines.push(`    if (i < ${s.M.expr}) {`);
    rowBlock(1, '      ');
    lines.push(`    }`);
    lines.push(`  }`);
  };
  if (s.N >= 4) group(4, '0', true);
  if (s.N % 4) group(s.N % 4, String(s.N - (s.N % 4)), false);
  return lines;
}

/** The packed (or in-place) register-blocked product, blocked for the caches. */
function emitBlocked(s: GemmSpec): string[] {
  const lines: string[] = [];
  const K = s.K.value;
  // A combining epilogue reads what C holds, so C never holds partial sums: K in one block
  // (it is used where K, a batch, is small: codegen/fused_update.ts).
  const cached = gemmBlocking(s);
  const blocking: Blocking = s.epilogue?.combine ? { order: cached.order, ...(cached.mc === undefined ? {} : { mc: cached.mc }) } : cached;
  const unit = unitK(s);
  if (!s.split) lines.push(...packA(s).map((l) => `  ${l}`));
  if (unit) lines.push(...(s.epilogue?.setup ?? []).map((l) => `  ${l}`));
  let panelBase: (j: string) => string;
  let bK: number;
  if (s.bLayout.kind === 'packed') {
    if (K === undefined) throw new Error('internal: a packed GEMM operand needs a compiled K');
    // W [N,K] → panels [⌈N/8⌉][K][8] (assembly/pack.ts), columns past N zero; a part packs its own
    // panels, which start at its first column in W and in the scratch alike.
    if (s.split) lines.push(`  pack_panels(${s.bLayout.scratch} + <usize>jFrom * ${K * 4}, ${s.b} + <usize>jFrom * ${K * 4}, jTo - jFrom, ${K});`);
    else lines.push(`  pack_panels(${s.bLayout.scratch}, ${s.b}, ${s.N}, ${K});`);
    const scratch = s.bLayout.scratch;
    panelBase = (j) => `${scratch} + <usize>${j} * ${K * 4}`;
    bK = NR * 4;
  } else {
    panelBase = (j) => `${s.b} + (<usize>${j} << 2)`;
    bK = s.N * 4;
  }
  const kBlocked = blocking.kc !== undefined;
  const k0 = kBlocked ? ` + k0 * ${bK}` : '';
  if (kBlocked) {
    lines.push(`  for (let k0: usize = 0; k0 < <usize>${s.K.expr}; k0 += ${blocking.kc}) {`);
    lines.push(`  const kLen = min<usize>(${blocking.kc}, <usize>${s.K.expr} - k0);`);
    lines.push(`  const later = i32x4.splat(k0 > 0 ? -1 : 0);`);
  }
  if (blocking.mc !== undefined) {
    lines.push(`  for (let i0 = 0; i0 < ${s.M.expr}; i0 += ${blocking.mc}) {`);
    lines.push(`  const iEnd = min(i0 + ${blocking.mc}, ${s.M.expr});`);
  }
  // Panel widths: full 8s, then the remainder as one 8- or 4-wide panel with partial stores.
  // A packed panel is always 8 wide (zero padded); an in-place one reads 4 or 8 lanes.
  const fullPanels = Math.floor(s.N / NR);
  const rem = s.N - fullPanels * NR;
  const panels: (Loop & { readonly vectors: number; readonly width: number })[] = [];
  const bBase = `  const bBase = ${panelBase('j')}${k0};`;
  // Split: this part's panels only, [jFrom, jTo) (splitPrologue).
  const fullOpen = s.split ? `for (let j = jFrom; j < min(jTo, ${fullPanels * NR}); j += ${NR}) {` : `for (let j = 0; j < ${fullPanels * NR}; j += ${NR}) {`;
  const remOpen = s.split ? `if (jTo > ${fullPanels * NR}) {` : `{`;
  if (fullPanels > 0) panels.push({ vectors: NR / 4, width: NR, open: [fullOpen, bBase], close: [`}`] });
  if (rem > 0) panels.push({ vectors: s.bLayout.kind === 'packed' ? NR / 4 : Math.ceil(rem / 4), width: rem, open: [remOpen, `  const j = ${fullPanels * NR};`, bBase], close: [`}`] });
  const rows = rowLoops(s, blocking);
  // K of one: a row block's values of A, splat once; with row blocks outside, for all the panels.
  const aValues = (r: number): string[] => (unit ? [`const aBase = ${aRowBase(s, false)};`, ...[...Array(r).keys()].map((q) => `const xf${q} = v128.load32_splat(aBase, ${q * s.aRow});`)] : []);
  const hoisted = unit && blocking.order === 'rows';
  const code = (r: number, p: { readonly vectors: number; readonly width: number }): string[] => [
    `{`,
    ...(unit && !hoisted ? aValues(r).map((l) => `  ${l}`) : []),
    `  ${unit ? '' : `const aBase = ${aRowBase(s, kBlocked)}; `}const cBase = ${s.c} + ((<usize>i * ${s.N} + <usize>j) << 2);`,
    ...block(s, r, p.vectors, p.width, bK, kBlocked, '  '),
    `}`,
  ];
  const indent = (ls: readonly string[]): string[] => ls.map((l) => `  ${l}`);
  const nest =
    blocking.order === 'rows'
      ? [rows.init, ...rows.loops.flatMap((r) => [...r.open, ...indent([...(hoisted ? aValues(r.rows) : []), ...panels.flatMap((p) => [...p.open, ...indent(code(r.rows, p)), ...p.close])]), ...r.close])]
      : panels.flatMap((p) => [...p.open, `  ${rows.init}`, ...indent(rows.loops.flatMap((r) => [...r.open, ...indent(code(r.rows, p)), ...r.close])), ...p.close]);
  lines.push(...indent(nest));
  if (blocking.mc !== undefined) lines.push(`  }`);
  if (kBlocked) lines.push(`  }`);
  return lines;
}

/**
 * K (its compiled value or bound) from which dYᵀ·X reads dY in place by rows (emitColumns)
 * instead of packing it into 4-column panels: the transposes that end each block cost about
 * what 4 steps of k do, so a short K (the weight gradient at a small batch) keeps the packed form.
 */
export const COLUMNS_MIN_K = 128;

/** Whether the product dYᵀ·X with this K packs dY (the packed form needs scratch), or reads it in place. */
export function packsColumns(K: number): boolean {
  return K < COLUMNS_MIN_K;
}

/**
 * dYᵀ·X in place, beyond COLUMNS_WHOLE_K (compiled value or bound): K in blocks of COLUMNS_KC
 * steps and columns in blocks of COLUMNS_NC, so a block of X (COLUMNS_KC × COLUMNS_NC floats,
 * 32 KiB) stays in L1 while every row block of dY passes over it (W1 at batch 2048 and the
 * convolutions' weight gradients, whose K is batch × positions, would stream all of X from memory
 * per row block). Up to it, K in one block (W7's 512 rows: no partial sums to reload), and columns
 * in blocks only past 2·COLUMNS_NC (W1's 784 and 256: bench:ab:gemm ×0.93–0.97 against whole rows).
 */
export const COLUMNS_WHOLE_K = 512;
export const COLUMNS_KC = 128;
export const COLUMNS_NC = 64;

/**
 * dYᵀ·X with dY [K,M] read in place by rows: C's 8×4 block holds rows i..i+7 of 4 columns, as
 * 2 f32x4 of dY's row k (8 consecutive i) times 4 broadcasts of X's row k (4 consecutive j),
 * in 8 accumulators, each a column segment of C, transposed 4×4 in registers once at the end.
 * Each step of k reads both operands along their rows (no packing: dY's pass over memory and
 * its 4-column copy are gone) and each C element is still one chain of multiply-adds in k order,
 * so the bits are those of the packed form. Tail rows (fewer than 8, the last a part vector whose
 * lanes past M read in-bounds memory and are never stored) take 8 columns a block, so they too
 * keep 8 accumulators; columns past the last full block go in one narrower block. With K in
 * blocks, a later block starts from the partial sums C holds (transposed back on loading).
 * Split, a part computes columns [jFrom, jTo), 8-column panels, in the same blocks.
 * Its locals are named apart from the kernel's parameters (a0, a1, …), which its code reads.
 */
function emitColumns(s: GemmSpec): string[] {
  const M = s.M.value!;
  const N = s.N;
  const aK = M * 4;
  const bK = N * 4;
  const kBlocked = kBound(s) > COLUMNS_WHOLE_K;
  const nBlocked = N > (kBlocked ? COLUMNS_NC : 2 * COLUMNS_NC);
  if (kBlocked && s.epilogue) throw new Error('internal: an epilogue on dYᵀ·X with K in blocks');
  if (s.epilogue?.activationOut !== undefined) throw new Error('internal: a second epilogue output on dYᵀ·X');
  if (s.epilogue?.residual !== undefined || s.epilogue?.derivativeOut !== undefined) throw new Error('internal: a residual or derivative epilogue on dYᵀ·X');
  const jFrom = s.split ? 'jFrom' : '0';
  const jTo = s.split ? 'jTo' : String(N);
  const lines: string[] = [];
  /** One block: rows i.. (vectors of 4, `rows` real), columns j..j+width−1 (width ≤ 8). */
  const columnBlock = (vectors: number, rows: number, width: number): string[] => {
    const V = [...Array(vectors).keys()];
    const Q = [...Array(width).keys()];
    const G = [...Array(Math.ceil(width / 4)).keys()];
    const acc = (v: number, q: number): string => `c${v}_${q}`;
    const rowsOf = (v: number): number => Math.min(4, rows - 4 * v);
    const rowAt = (v: number, r: number): string => `${s.c} + ((<usize>(i + ${4 * v + r}) * ${N} + <usize>j) << 2)`;
    const transpose = (c: (q: number) => string): string[] => [
      `const t0 = v128.shuffle<f32>(${c(0)}, ${c(1)}, 0, 4, 1, 5); const t1 = v128.shuffle<f32>(${c(0)}, ${c(1)}, 2, 6, 3, 7);`,
      `const t2 = v128.shuffle<f32>(${c(2)}, ${c(3)}, 0, 4, 1, 5); const t3 = v128.shuffle<f32>(${c(2)}, ${c(3)}, 2, 6, 3, 7);`,
    ];
    const transposed = ['v128.shuffle<f32>(t0, t2, 0, 1, 4, 5)', 'v128.shuffle<f32>(t0, t2, 2, 3, 6, 7)', 'v128.shuffle<f32>(t1, t3, 0, 1, 4, 5)', 'v128.shuffle<f32>(t1, t3, 2, 3, 6, 7)'];
    const out: string[] = [`let ap = ${s.a} + (<usize>i << 2)${kBlocked ? ` + k0 * ${aK}` : ''}; let bp = ${s.b} + (<usize>j << 2)${kBlocked ? ` + k0 * ${bK}` : ''};`];
    out.push(`const aEnd = ap + ${kBlocked ? 'kLen' : `<usize>${s.K.expr}`} * ${aK};`);
    const step = (first: boolean): void => {
      const pad = first ? '' : '  ';
      for (const v of V) out.push(`${pad}const dy${v} = v128.load(ap, ${v * 16});`);
      for (const q of Q) out.push(`${pad}const xk${q} = v128.load32_splat(bp, ${q * 4});`);
      for (const v of V) for (const q of Q) out.push(first ? `let ${acc(v, q)} = f32x4.mul(dy${v}, xk${q});` : `${pad}${acc(v, q)} = madd(dy${v}, xk${q}, ${acc(v, q)});`);
    };
    if (kBlocked) {
      // The partial sums of the earlier K blocks, rows transposed into column segments; none
      // (masked by `later`) before the first block. Columns past `width` are read (in-bounds
      // memory) and dropped; rows past M are zero.
      for (const v of V) for (const q of Q) out.push(`let ${acc(v, q)}: v128;`);
      for (const v of V) {
        for (const g of G) {
          out.push(`{`);
          for (let r = 0; r < 4; r++) out.push(r < rowsOf(v) ? `  const r${r} = v128.and(v128.load(${rowAt(v, r)}, ${g * 16}), later);` : `  const r${r} = f32x4.splat(0);`);
          out.push(...transpose((q) => `r${q}`).map((l) => `  ${l}`));
          for (let q = 0; q < 4 && 4 * g + q < width; q++) out.push(`  ${acc(v, 4 * g + q)} = ${transposed[q]};`);
          out.push(`}`);
        }
      }
      out.push(`while (ap < aEnd) {`);
      step(false);
      out.push(`  ap += ${aK}; bp += ${bK};`);
      out.push(`}`);
    } else {
      // The first step declares the accumulators with its products (K, a batch of rows, is never 0).
      step(true);
      out.push(`ap += ${aK}; bp += ${bK};`);
      out.push(`while (ap < aEnd) {`);
      step(false);
      out.push(`  ap += ${aK}; bp += ${bK};`);
      out.push(`}`);
    }
    const ep = s.epilogue;
    out.push(...(ep?.setup ?? []));
    if (width % 4) out.push(`const z = f32x4.splat(0);`);
    for (const v of V) {
      for (const g of G) {
        // 4×4 transpose: t0/t1 interleave columns 0 and 1, t2/t3 columns 2 and 3; row r gathers lane r of each.
        out.push(`{`);
        out.push(...transpose((q) => (4 * g + q < width ? acc(v, 4 * g + q) : 'z')).map((l) => `  ${l}`));
        const lanes = Math.min(4, width - 4 * g);
        if (ep?.bias) out.push(`  const bias = v128.load(${ep.bias} + (<usize>(j + ${4 * g}) << 2));`);
        for (let r = 0; r < rowsOf(v); r++) {
          let value = transposed[r]!;
          if (ep?.bias) value = `f32x4.add(${value}, bias)`;
          if (ep?.activation) value = ep.activation(value);
          if (ep?.combine) value = ep.combine(value, `v128.load(p${r})`);
          out.push(`  const p${r} = ${rowAt(v, r)} + ${g * 16};`);
          if (lanes === 4) out.push(`  v128.store(p${r}, ${value});`);
          else {
            out.push(`  { const t = ${value};`);
            for (let q = 0; q < lanes; q++) out.push(`    store<f32>(p${r}, f32x4.extract_lane(t, ${q}), ${q * 4});`);
            out.push(`  }`);
          }
        }
        out.push(`}`);
      }
    }
    return [`{`, ...out.map((l) => `  ${l}`), `}`];
  };
  // Column blocks of one row block over columns [jb, jbEnd): `width` at a time, then what is
  // left of the last `width` as one narrower block (it ends at N, so only the part holding N has it).
  const columns = (vectors: number, rows: number, width: number): string[] => {
    const out: string[] = [];
    const full = N - (N % width);
    if (full > 0) out.push(`for (let j = jb; j < min(jbEnd, ${full}); j += ${width}) {`, ...columnBlock(vectors, rows, width).map((l) => `  ${l}`), `}`);
    if (N % width) out.push(`if (jbEnd == ${N}) {`, `  const j = ${full};`, ...columnBlock(vectors, rows, N % width).map((l) => `  ${l}`), `}`);
    return out;
  };
  const rowBlocks: string[] = [];
  const M8 = M - (M % 8);
  if (M8 > 0) rowBlocks.push(`for (let i = 0; i < ${M8}; i += 8) {`, ...columns(2, 8, 4).map((l) => `  ${l}`), `}`);
  // The last M % 8 rows as the packed form's blocks do it (rows broadcast, 8 columns of X a
  // vector pair), dY read in place: a part vector of dY rows would waste its lanes on rows past M.
  const inPlace: GemmSpec = { ...s, aRow: 4, aK };
  const N8 = N - (N % NR);
  let i = M8;
  for (const rows of [4, 2, 1]) {
    if (M - i < rows) continue;
    const at = (vectors: number, width: number): string[] => [
      `const aBase = ${s.a} + <usize>i * 4${kBlocked ? ` + k0 * ${aK}` : ''}; const bBase = ${s.b} + (<usize>j << 2)${kBlocked ? ` + k0 * ${bK}` : ''};`,
      `const cBase = ${s.c} + ((<usize>i * ${N} + <usize>j) << 2);`,
      ...block(inPlace, rows, vectors, width, bK, kBlocked, ''),
    ];
    rowBlocks.push(`{`, `  const i = ${i};`);
    if (N8 > 0) rowBlocks.push(`  for (let j = jb; j < min(jbEnd, ${N8}); j += ${NR}) {`, ...at(NR / 4, NR).map((l) => `    ${l}`), `  }`);
    if (N % NR) rowBlocks.push(`  if (jbEnd == ${N}) {`, `    const j = ${N8};`, ...at(Math.ceil((N % NR) / 4), N % NR).map((l) => `    ${l}`), `  }`);
    rowBlocks.push(`}`);
    i += rows;
  }
  if (kBlocked) {
    lines.push(`for (let k0: usize = 0; k0 < <usize>${s.K.expr}; k0 += ${COLUMNS_KC}) {`);
    lines.push(`  const kLen = min<usize>(${COLUMNS_KC}, <usize>${s.K.expr} - k0);`);
    lines.push(`  const later = i32x4.splat(k0 > 0 ? -1 : 0);`);
  } else lines.push(`{`);
  if (nBlocked) lines.push(`  for (let jb = ${jFrom}; jb < ${jTo}; jb += ${COLUMNS_NC}) {`, `  const jbEnd = min(jb + ${COLUMNS_NC}, ${jTo});`);
  else lines.push(`  {`, `  const jb = ${jFrom}; const jbEnd = ${jTo};`);
  lines.push(...rowBlocks.map((l) => `    ${l}`));
  lines.push(`  }`, `}`);
  return lines.map((l) => `  ${l}`);
}

/** The whole product as AssemblyScript statements (the body of the node's function). */
export function emitGemm(s: GemmSpec): string {
  const prologue = s.split ? splitPrologue(s) : [];
  if (s.aPacked && !packsColumns(kBound(s))) return [...prologue, ...emitColumns(s)].join('\n');
  if (s.bLayout.kind !== 'packed' || s.aK !== 4) return [...prologue, ...emitBlocked(s)].join('\n');
  // X·Wᵀ: few rows read W in place, more pack it first.
  const M = s.M.value;
  if (M !== undefined) return [...prologue, ...(M < DIRECT_ROWS ? emitDirect(s) : emitBlocked(s))].join('\n');
  return [...prologue, `  if (${s.M.expr} < ${DIRECT_ROWS}) {`, ...emitDirect(s).map((l) => `  ${l}`), `  } else {`, ...emitBlocked(s).map((l) => `  ${l}`), `  }`].join('\n');
}

/**
 * A split product's first lines: part −1 packs what every part reads (a packed A) and returns;
 * part p of P then takes panels [⌊p·panels/P⌋, ⌊(p+1)·panels/P⌋) of the ⌈N/8⌉, as columns
 * [jFrom, jTo), so the parts cover every column once and a part boundary is a panel boundary.
 */
function splitPrologue(s: GemmSpec): string[] {
  const panels = Math.ceil(s.N / NR);
  return [
    `  if (part < 0) {`,
    ...packA(s).map((l) => `    ${l}`),
    `    return;`,
    `  }`,
    `  const jFrom = (part * ${panels} / parts) << 3;`,
    `  const jTo = min(((part + 1) * ${panels} / parts) << 3, ${s.N});`,
    `  if (jFrom >= jTo) return;`,
  ];
}

/** Multiply-adds of a split product for n rows, as an i32 expression: what decides whether to run it in parts. */
export function gemmWork(s: Pick<GemmSpec, 'M' | 'K' | 'N'>): string {
  return `<i32>min<i64>(<i64>(${s.M.expr}) * <i64>(${s.K.expr}) * ${s.N}, 0x7fffffff)`;
}
