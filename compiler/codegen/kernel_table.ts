// The kernels of a module as a table: one function per distinct kernel code, its buffer addresses
// read from a static argument block, and the entry points' kernel sequences as static data that
// one dispatcher loop walks. A layer then adds data (a step and an argument block per kernel),
// not code: the hidden layers of a deep MLP or the time steps of an unrolled RNN share their
// kernels' functions, and the entry points stay a few lines whatever the depth, so compile time
// and .wasm size grow by a small constant per layer (docs/architecture.md, "Kernel table").
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

interface SharedFunction {
  readonly index: number;
  readonly name: string;
  readonly body: string;
  readonly arity: number;
  readonly headers: string[];
  readonly parts?: { readonly work: string };
}

export class KernelTable {
  private readonly functions = new Map<string, SharedFunction>();
  private readonly calls = new Map<NodeId, { readonly fn: SharedFunction; readonly args: number }>();
  /** Every kernel's addresses, one u32 word each; a kernel's block starts at its `args` word. */
  private readonly argWords: string[] = [];
  /** The sequences run by the entry points: (function index, argument word) pairs with a comment each. */
  private readonly steps: string[] = [];
  private readonly ranges = new Map<string, readonly [number, number]>();

  add(id: NodeId, code: KernelCode): void {
    let fn = this.functions.get(code.body);
    if (!fn) {
      fn = { index: this.functions.size, name: `kernel${id}`, body: code.body, arity: code.args.length, headers: [], ...(code.parts ? { parts: code.parts } : {}) };
      this.functions.set(code.body, fn);
    }
    fn.headers.push(code.header);
    this.calls.set(id, { fn, args: this.argWords.length });
    this.argWords.push(...code.args);
  }

  /** The statement that runs these kernels in order (the same sequence is stored once). */
  run(kernels: readonly NodeId[]): string {
    const key = kernels.join(',');
    let range = this.ranges.get(key);
    if (!range) {
      const from = this.steps.length;
      for (const id of kernels) {
        const call = this.calls.get(id);
        if (!call) throw new Error(`internal: kernel %${id} is not in the kernel table`);
        this.steps.push(`  ${call.fn.index}, ${call.args}, // ${call.fn.name} → %${id}`);
      }
      range = [from, this.steps.length];
      this.ranges.set(key, range);
    }
    return `  run(n, ${range[0]}, ${range[1]});`;
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

  /** The argument block, the step table, the functions and the dispatcher; after every `run`. */
  code(): string[] {
    const functions = [...this.functions.values()];
    const words = this.argWords.length ? this.argWords : ['0'];
    const definitions = functions.map((fn) => {
      const loads = Array.from({ length: fn.arity }, (_, k) => `  const a${k} = <usize>load<u32>(args, ${k * 4});`);
      const shared = fn.headers.length > 1 ? `\n// … and ${fn.headers.length - 1} more kernel(s) of the same code, each with its own addresses` : '';
      const params = fn.parts ? 'n: i32, args: usize, part: i32, parts: i32' : 'n: i32, args: usize';
      return `${fn.headers[0]}${shared}\nfunction ${fn.name}(${params}): void {\n${[...loads, fn.body].join('\n')}\n}`;
    });
    return [
      `/** Every kernel's buffer addresses, a block per kernel. */`,
      `const KERNEL_ARGS = memory.data<u32>([${chunked(words)}]);`,
      '',
      `/** What the entry points run: (kernel function, first word of its addresses) per step. */`,
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
      ...functions.map((fn) => `      case ${fn.index}: ${fn.parts ? `run_parts(${fn.index}, n, args, ${fn.parts.work})` : `${fn.name}(n, args)`}; break;`),
      `      default: unreachable();`,
      `    }`,
      `  }`,
      `}`,
    ];
  }
}

/** Values as lines of 16, so a deep model's argument block stays readable. */
function chunked(values: readonly string[]): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += 16) lines.push(values.slice(i, i + 16).join(', '));
  return lines.length > 1 ? `\n  ${lines.join(',\n  ')},\n` : lines[0]!;
}
