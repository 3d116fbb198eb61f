// The threaded build's dispatcher. The trainer's memory is a shared WebAssembly.Memory, imported;
// worker threads instantiate the same module on it and sit in `worker_loop`. A step whose kernel
// runs in parts (a product of the forward or backward pass split by 8-column output panels:
// codegen/gemm.ts, `split`; partedProduct below says which; or a kernel of independent units —
// an op template's `parts`, an elementwise kernel elementwiseCost prices — split by ranges of
// them, part_first) is published in a control block —
// kernel function, n, argument block, part count — and the workers are woken with
// memory.atomic.notify. Parts are claimed, not assigned: the caller and every awake worker
// take the next unclaimed part until none is left, and the caller returns once every part is
// done. A worker the OS has not scheduled yet (a busy machine, a browser tab in the background)
// then costs nothing but its share of the parallelism: the caller runs its parts. Each output
// element is computed by exactly the code that computes it in a single-threaded build, whichever
// thread runs its part, so the results are bit-identical for any number of threads.
//
// The caller claims parts from the front, the workers from the back: on two threads the caller
// runs the first rows (or matrices, or columns) of every kernel and the worker the last, so a
// kernel that reads what the one before wrote finds most of it in its own core's cache, not the
// other's.
//
// A claim is a compare-and-swap on one i64 word that holds the step's tag (its counter, 32 bits),
// the front (16 bits) and the back (16 bits) of the unclaimed parts: a worker that saw an older
// step cannot claim a part of a newer one, and the caller writes the new tag before the step's
// fields, so a worker that read a newer step's fields under an older tag fails its claim as well.
//
// The control block lies after the planned arena (compile.ts places it), outside every data
// segment: a worker's instantiation re-applies the module's data segments, which must not reset
// the counters. Words, i32 each:
//   0 GEN      bumped once per published step; workers wait on it
//   4 FN       the published kernel function, or −1: leave worker_loop
//   8 N        rows
//  12 ARGS     the kernel's argument block
//  16 PARTS    parts of the published step
//  20 DONE     parts finished
//  24 WORKERS  workers (0: every step runs whole, on the caller)
//  28 WAITS    1 where the caller may block (Atomics.wait traps on a browser's main thread: spin)
//  32 MIN_WORK multiply-adds a part must have, below which a step runs whole
//  36 READY    workers inside worker_loop
//  40 CLAIM    i64: the step's tag << 32 | the first unclaimed part << 16 | the last unclaimed part + 1
//  48 FAILED   the id of a worker that trapped (worker_failed), else 0

import type { Node } from '../ir/types.ts';
import type { Kernel, Program } from '../passes/fuse.ts';
import { matmulWorkAtBatch, takesEpilogue } from './matmul.ts';

/** The control block's i32 words in order (the table above): word k lies at offset + 4·k. */
export const CONTROL_WORDS = ['GEN', 'FN', 'N', 'ARGS', 'PARTS', 'DONE', 'WORKERS', 'WAITS', 'MIN_WORK', 'READY', 'CLAIM', 'CLAIM_HIGH', 'FAILED'] as const;

/** Where the control block lies, and its size. */
export interface ThreadsLayout {
  readonly offset: number;
  readonly bytes: number;
}

export const THREADS_BLOCK_BYTES = 64;

/**
 * Multiply-adds per part below which a product runs whole: waking a worker and waiting for it
 * costs a few microseconds, about what this much GEMM work takes on one thread (measured with
 * `npm run bench -- --threads 1,2`; see docs/benchmarks.md).
 */
export const DEFAULT_MIN_PART_WORK = 1 << 18;

/**
 * The product a kernel computes, where the threaded build may run it in parts: every product the
 * GEMM generator runs, of the forward pass (a `gemm` kernel, with its epilogue) and of the
 * backward pass (a `matmul` node: input and weight gradients).
 */
export function partedProduct(program: Program, kernel: Kernel): Extract<Node, { op: 'matmul' }> | undefined {
  const id = kernel.kind === 'gemm' ? kernel.matmul : kernel.kind === 'node' && !kernel.readers ? kernel.out : undefined;
  const mm = id === undefined ? undefined : program.graph.nodes[id]!;
  if (mm?.op !== 'matmul') return undefined;
  return takesEpilogue(mm.inputs.map((i) => program.graph.nodes[i]!), mm, mm.attrs) ? mm : undefined;
}

/**
 * How many products the threaded build may run in parts, and the multiply-adds of the largest at
 * the compiled batch size: the runtime keeps a model whose largest product cannot fill two parts
 * on the single-threaded build, which has no dispatch to pay.
 */
export function partedProducts(program: Program, batchSize: number): { readonly partedProducts: number; readonly largestProduct: number } {
  let largest = 0;
  let count = 0;
  for (const kernel of program.kernels) {
    const mm = partedProduct(program, kernel);
    if (!mm) continue;
    count++;
    const work = matmulWorkAtBatch(mm.inputs.map((i) => program.graph.nodes[i]!), mm, mm.attrs, batchSize);
    if (work !== null) largest = Math.max(largest, work);
  }
  return { partedProducts: count, largestProduct: largest };
}

/**
 * Multiply-adds' worth of time per element of an elementwise kernel, where it is worth running in
 * parts: one that calls a transcendental function of assembly/simd_math.ts (nabla_exp4, nabla_erf4,
 * …). Such an element takes about 1.4–2.6 ns (gelu's erf over [512, 128]: 0.17 ms, `npm run
 * bench:profile -- W7 --relaxed`), a multiply-add of a packed product 0.04 ns. A pass of loads,
 * stores and arithmetic alone costs about what handing half its data to the other core's cache
 * does: splitting those made W7 and W1/64 slower (docs/benchmarks.md, "Threads"), so they stay
 * whole (0).
 */
export function elementwiseCost(simd: string): number {
  const calls = simd.match(/nabla_\w+4\(/g)?.length ?? 0;
  return calls === 0 ? 0 : 4 + TRANSCENDENTAL_COST * calls;
}

const TRANSCENDENTAL_COST = 32;

/** The multiply-adds of `count` units of `cost` each, as an i32 expression (capped, never wrapping). */
export function unitsWork(count: string, cost: number): string {
  return `<i32>min<i64>(<i64>(${count}) * ${cost}, 0x7fffffff)`;
}

/** A kernel function whose steps may run in parts. */
export interface PartedFunction {
  readonly index: number;
  readonly name: string;
}

/** The caller spins on the parts done before blocking: a wake-up through the OS costs more than a short spin. */
const SPIN = 1 << 18;

/**
 * A worker spins this long (about a millisecond) on the next step before blocking: between two
 * products of a step there is elementwise work, and a worker that went to sleep there wakes (a
 * futex, tens of microseconds) after the caller has claimed its part.
 */
const WORKER_SPIN = 1 << 20;

/** Parts per thread: a worker that starts late still finds parts left to claim. */
const PARTS_PER_THREAD = 4;

/** The control block, `run_parts` (called by the kernel table's `run`), `worker_loop` and the runtime's hooks. */
export function emitThreadedDispatch(parted: readonly PartedFunction[], layout: ThreadsLayout): string[] {
  return [
    `// The control block's words (codegen/threaded.ts).`,
    ...CONTROL_WORDS.map((name, k) => `const ${name}: usize = ${layout.offset + 4 * k};`),
    `const SPIN = ${SPIN};`,
    `const WORKER_SPIN = ${WORKER_SPIN};`,
    `const PARTS_PER_THREAD = ${PARTS_PER_THREAD};`,
    `const DEFAULT_MIN_WORK = ${DEFAULT_MIN_PART_WORK};`,
    '',
    `/** Runs part \`part\` of \`parts\` of a kernel that runs in parts (part −1: what precedes the parts). */`,
    `function call_part(fn: i32, n: i32, args: usize, part: i32, parts: i32): void {`,
    `  switch (fn) {`,
    ...parted.map((fn) => `    case ${fn.index}: ${fn.name}(n, args, part, parts); break;`),
    `    default: unreachable();`,
    `  }`,
    `}`,
    '',
    ...DISPATCH.split('\n'),
  ];
}

const DISPATCH = `/**
 * The first unit of part \`part\` of \`parts\` over \`units\` units in whole groups of \`group\`:
 * part p computes [part_first(p), part_first(p + 1)), the last part up to \`units\` (a tail
 * shorter than a group included).
 */
@inline
function part_first(units: i32, group: i32, part: i32, parts: i32): i32 {
  return part >= parts ? units : <i32>(<i64>(units / group) * part / parts) * group;
}

/**
 * Claims and runs parts of the step tagged \`tag\` until none is left: the caller from the front
 * (\`fromBack\` false), the workers from the back.
 */
function run_claimed(tag: i32, fn: i32, n: i32, args: usize, parts: i32, fromBack: bool): void {
  while (true) {
    const claim = atomic.load<i64>(CLAIM);
    const front = <i32>(claim >>> 16) & 0xffff;
    const back = <i32>claim & 0xffff;
    if (<i32>(claim >>> 32) != tag || front >= back) return;
    const part = fromBack ? back - 1 : front;
    if (atomic.cmpxchg<i64>(CLAIM, claim, fromBack ? claim - 1 : claim + 0x10000) != claim) continue;
    call_part(fn, n, args, part, parts);
    if (atomic.add<i32>(DONE, 1) + 1 == parts) atomic.notify(DONE, 1);
  }
}

/** One step of a kernel that runs in parts: on the workers too, where its work fills more than one part. */
function run_parts(fn: i32, n: i32, args: usize, work: i32): void {
  call_part(fn, n, args, -1, 1);
  const workers = load<i32>(WORKERS);
  const parts = min(min((workers + 1) * PARTS_PER_THREAD, 255), max(1, work / max(1, load<i32>(MIN_WORK))));
  if (parts <= 1) {
    call_part(fn, n, args, 0, 1);
    return;
  }
  // The new tag first: a claim under an older tag fails from here on.
  const tag = atomic.load<i32>(GEN) + 1;
  atomic.store<i64>(CLAIM, (<i64>tag << 32) | <i64>parts);
  atomic.store<i32>(FN, fn);
  atomic.store<i32>(N, n);
  atomic.store<i32>(ARGS, <i32>args);
  atomic.store<i32>(PARTS, parts);
  atomic.store<i32>(DONE, 0);
  atomic.store<i32>(GEN, tag);
  atomic.notify(GEN, workers);
  run_claimed(tag, fn, n, args, parts, false);
  const waits = load<i32>(WAITS) != 0;
  let spins = 0;
  for (let done = atomic.load<i32>(DONE); done < parts && atomic.load<i32>(FAILED) == 0; done = atomic.load<i32>(DONE)) {
    if (waits && ++spins > SPIN) atomic.wait<i32>(DONE, done, -1);
  }
  // A part a trapped worker claimed was never finished: this step cannot complete. The trap
  // reaches the caller's host, which asks threads_failed() why.
  if (atomic.load<i32>(FAILED) != 0) unreachable();
}

/** A worker's life: run parts of each published step until told to leave. \`id\` is 1…workers. */
export function worker_loop(id: i32): void {
  let seen = atomic.load<i32>(GEN);
  atomic.add<i32>(READY, 1);
  while (true) {
    let spins = 0;
    let gen = atomic.load<i32>(GEN);
    while (gen == seen) {
      if (++spins > WORKER_SPIN) atomic.wait<i32>(GEN, seen, -1);
      gen = atomic.load<i32>(GEN);
    }
    seen = gen;
    const fn = atomic.load<i32>(FN);
    if (fn < 0) break;
    run_claimed(gen, fn, atomic.load<i32>(N), <usize>atomic.load<i32>(ARGS), atomic.load<i32>(PARTS), true);
  }
  atomic.sub<i32>(READY, 1);
}

/**
 * Called by worker \`id\`'s host when its worker_loop trapped: records it and wakes the caller, which
 * then traps instead of waiting for the part the worker never finished (bumping DONE makes a
 * caller about to block on it return at once).
 */
export function worker_failed(id: i32): void {
  atomic.store<i32>(FAILED, id);
  atomic.add<i32>(DONE, 1);
  atomic.notify(DONE, -1);
}

/** The id of a worker that trapped, or 0. */
export function threads_failed(): i32 {
  return atomic.load<i32>(FAILED);
}

/** Workers inside worker_loop. */
export function threads_ready(): i32 {
  return atomic.load<i32>(READY);
}

/** How steps run in parts: over \`workers\` workers (0: on the caller alone), whether the caller may block, the least work of a part (≤ 0: the default). */
export function threads_configure(workers: i32, callerWaits: i32, minWork: i32): void {
  store<i32>(WORKERS, workers);
  store<i32>(WAITS, callerWaits);
  store<i32>(MIN_WORK, minWork > 0 ? minWork : DEFAULT_MIN_WORK);
}

/** Tells every worker to leave worker_loop; steps then run on the caller alone. */
export function threads_stop(): void {
  store<i32>(WORKERS, 0);
  atomic.store<i32>(FN, -1);
  atomic.add<i32>(GEN, 1);
  atomic.notify(GEN, -1);
}`;
