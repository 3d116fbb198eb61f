// The kernels of a module as a table: one function per distinct kernel code, its buffer addresses
// read from a static argument block, and the entry points' kernel sequences as static data that
// one dispatcher loop walks. A layer then adds data (a step and an argument block per kernel),
// not code: the hidden layers of a deep MLP or the time steps of an unrolled RNN share their
// kernels' functions, and the entry points stay a few lines whatever the depth, so compile time
// and .wasm size grow by a small constant per layer (docs/architecture.md, "Kernel table").
// Besides kernels the table holds the plain step's fused updates and the guard's finiteness
// checks (functions that answer a bool, walked by `first_failing`), under the same sharing.
import type { NodeId } from '../ir/types.ts';
import type { PartedFunction } from './threaded.ts';

/** A kernel's code with its addresses as parameters `a0`, `a1`…, and the addresses it is called with. */
export interface KernelCode {
  readonly header: string;
  readonly body: string;
  /** Byte addresses (decimal literals), one per parameter. */
  readonly args: readonly string[];
  /**
   * Threaded build: the code computes part `part` of `parts` (parameters after `args`) and the
   * step may run in parts on several threads when `work` (an i32 expression of n) is large enough.
   */
  readonly parts?: { readonly work: string };
}

/**
 * The addresses a kernel's code reads and writes, as the parameters of its function, in order of
 * first use; the same address always the same parameter.
 */
export class KernelParams {
  readonly values: string[] = [];

  of(address: string): string {
    let k = this.values.indexOf(address);
    if (k < 0) k = this.values.push(address) - 1;
    return `a${k}`;
  }
}

/**
 * What a table function is for: a kernel (stores its output), a kernel with the optimizer's update
 * in its epilogue (fused_update.ts), or a finiteness check of the guard (answers, stores nothing).
 */
export type TableRole = 'kernel' | 'fused' | 'finite';

interface SharedFunction {
  readonly index: number;
  readonly name: string;
  readonly body: string;
  readonly arity: number;
  /** Checks answer whether what they read is finite; the others store. */
  readonly returns: 'void' | 'bool';
  readonly headers: string[];
  readonly parts?: { readonly work: string };
}

interface Call {
  readonly fn: SharedFunction;
  /** First word of its addresses in the argument block. */
  readonly args: number;
  readonly comment: string;
}

/** The name of a node's function of a role, and of the table entry that calls it. */
export const tableKey = (role: TableRole, id: NodeId): string => `${role}${id}`;

export class KernelTable {
  private readonly functions = new Map<string, SharedFunction>();
  private readonly calls = new Map<string, Call>();
  /** Every kernel's addresses, one u32 word each; a kernel's block starts at its `args` word. */
  private readonly argWords: string[] = [];
  /** The sequences run by the entry points: (function index, argument word) pairs with a comment each. */
  private readonly steps: string[] = [];
  /** The call key of each step, to find a requested sequence inside one stored before. */
  private readonly stepKeys: string[] = [];
  private readonly ranges = new Map<string, readonly [number, number]>();

  /** Adds a node's code under `role`; returns the key that `run` and `check` take. */
  add(role: TableRole, id: NodeId, code: KernelCode): string {
    const returns = role === 'finite' ? 'bool' : 'void';
    const shape = `${returns}:${code.body}`;
    let fn = this.functions.get(shape);
    if (!fn) {
      fn = { index: this.functions.size, name: tableKey(role, id), body: code.body, arity: code.args.length, returns, headers: [], ...(code.parts ? { parts: code.parts } : {}) };
      this.functions.set(shape, fn);
    }
    fn.headers.push(code.header);
    const key = tableKey(role, id);
    if (this.calls.has(key)) throw new Error(`internal: %${id} is in the kernel table twice as ${role}`);
    this.calls.set(key, { fn, args: this.argWords.length, comment: `${fn.name} → ${role === 'kernel' ? '' : `${role} `}%${id}` });
    this.argWords.push(...code.args);
    return key;
  }

  /** The statement that runs these kernels (keys of `add`) in order. */
  run(keys: readonly string[]): string {
    const [from, to] = this.sequence(keys, 'void');
    return `  run(n, ${from}, ${to});`;
  }

  /** An i32 expression: the position in `keys` of the first check that fails, or −1. */
  check(keys: readonly string[]): string {
    const [from, to] = this.sequence(keys, 'bool');
    return `first_failing(n, ${from}, ${to})`;
  }

  /**
   * The steps [from, to) that call `keys` in order: a sequence stored before, or one that lies
   * inside a longer one (the forward pass inside the gradients' sequence), is not stored again.
   */
  private sequence(keys: readonly string[], returns: SharedFunction['returns']): readonly [number, number] {
    const joined = keys.join(',');
    let range = this.ranges.get(joined) ?? this.within(keys);
    if (!range) {
      const from = this.steps.length;
      for (const key of keys) {
        const call = this.calls.get(key);
        if (!call) throw new Error(`internal: ${key} is not in the kernel table`);
        if (call.fn.returns !== returns) throw new Error(`internal: ${key} (${call.fn.returns}) run among ${returns} functions`);
        this.steps.push(`  ${call.fn.index}, ${call.args}, // ${call.comment}`);
        this.stepKeys.push(key);
      }
      range = [from, this.steps.length];
    }
    this.ranges.set(joined, range);
    return range;
  }

  /** Where `keys` already occur as consecutive steps. */
  private within(keys: readonly string[]): readonly [number, number] | undefined {
    if (keys.length === 0) return [0, 0];
    const last = this.stepKeys.length - keys.length;
    for (let from = this.stepKeys.indexOf(keys[0]!); from >= 0 && from <= last; from = this.stepKeys.indexOf(keys[0]!, from + 1)) {
      if (keys.every((key, k) => this.stepKeys[from + k] === key)) return [from, from + keys.length];
    }
    return undefined;
  }

  /** The functions whose steps may run in parts (threaded build; codegen/threaded.ts dispatches them). */
  partedFunctions(): PartedFunction[] {
    return [...this.functions.values()].flatMap((fn) => (fn.parts ? [{ index: fn.index, name: fn.name }] : []));
  }

  /** Bytes of the argument block and the step table, each 16-byte aligned. */
  dataBytes(): number {
    const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;
    return align(Math.max(1, this.argWords.length) * 4) + align(Math.max(1, this.steps.length) * 8);
  }

  /** The argument block, the step table, the functions and the dispatchers; after every `run` and `check`. */
  code(): string[] {
    const functions = [...this.functions.values()];
    const words = this.argWords.length ? this.argWords : ['0'];
    const definitions = functions.map((fn) => {
      const loads = Array.from({ length: fn.arity }, (_, k) => `  const a${k} = <usize>load<u32>(args, ${k * 4});`);
      const shared = fn.headers.length > 1 ? `\n// … and ${fn.headers.length - 1} more of the same code, each with its own addresses` : '';
      const params = fn.parts ? 'n: i32, args: usize, part: i32, parts: i32' : 'n: i32, args: usize';
      return `${fn.headers[0]}${shared}\nfunction ${fn.name}(${params}): ${fn.returns} {\n${[...loads, fn.body].join('\n')}\n}`;
    });
    const cases = (returns: SharedFunction['returns'], call: (fn: SharedFunction) => string): string[] => [
      ...functions.filter((fn) => fn.returns === returns).map((fn) => `      case ${fn.index}: ${call(fn)}; break;`),
      `      default: unreachable();`,
    ];
    const checks = functions.some((fn) => fn.returns === 'bool')
      ? [
          '',
          `/** Runs the checks [from, to) of STEPS in order: the position (from 0) of the first that fails, or −1. */`,
          `function first_failing(n: i32, from: i32, to: i32): i32 {`,
          `  for (let s = from; s < to; s++) {`,
          `    const step = STEPS + (<usize>s << 3);`,
          `    const args = KERNEL_ARGS + (<usize>load<u32>(step, 4) << 2);`,
          `    let finite = false;`,
          `    switch (load<u32>(step)) {`,
          ...cases('bool', (fn) => `finite = ${fn.name}(n, args)`),
          `    }`,
          `    if (!finite) return s - from;`,
          `  }`,
          `  return -1;`,
          `}`,
        ]
      : [];
    return [
      `/** Every kernel's buffer addresses, a block per kernel. */`,
      `const KERNEL_ARGS = memory.data<u32>([${chunked(words)}]);`,
      '',
      `/** What the entry points run: (function, first word of its addresses) per step. */`,
      `const STEPS = memory.data<u32>([`,
      ...(this.steps.length ? this.steps : ['  0, 0,']),
      `]);`,
      '',
      ...definitions,
      '',
      `/** Runs steps [from, to) of STEPS: each calls its kernel function with its own addresses. */`,
      `function run(n: i32, from: i32, to: i32): void {`,
      `  for (let s = from; s < to; s++) {`,
      `    const step = STEPS + (<usize>s << 3);`,
      `    const args = KERNEL_ARGS + (<usize>load<u32>(step, 4) << 2);`,
      `    switch (load<u32>(step)) {`,
      ...cases('void', (fn) => (fn.parts ? `run_parts(${fn.index}, n, args, ${fn.parts.work})` : `${fn.name}(n, args)`)),
      `    }`,
      `  }`,
      `}`,
      ...checks,
    ];
  }
}

/** Values as lines of 16, so a deep model's argument block stays readable. */
function chunked(values: readonly string[]): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += 16) lines.push(values.slice(i, i + 16).join(', '));
  return lines.length > 1 ? `\n  ${lines.join(',\n  ')},\n` : lines[0]!;
}
