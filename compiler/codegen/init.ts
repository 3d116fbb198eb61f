// The init() statements of a trainer: each parameter's draw (compiler/init/) as a call into
// assembly/init.ts, which draws bit for bit what the interpreter's initialValues() draws.
import type { Draw } from '../init/initializers.ts';
import { f32Literal } from './elementwise.ts';

/** The AssemblyScript statement of assembly/init.ts that performs `draw` at `ptr`. */
export function initCall(draw: Draw, ptr: number, count: number, stream: number): string {
  switch (draw.kind) {
    case 'fill':
      return `init_fill(${ptr}, ${count}, ${f32Literal(draw.value)});`;
    case 'uniform':
      return `init_uniform(${ptr}, ${count}, ${String(draw.limit)}, ${String(draw.center)}, seed, ${stream});`;
    case 'normal':
      return `init_normal(${ptr}, ${count}, ${String(draw.stddev)}, ${String(draw.mean)}, seed, ${stream});`;
    case 'truncated_normal':
      return `init_truncated_normal(${ptr}, ${count}, ${String(draw.stddev)}, ${String(draw.mean)}, seed, ${stream});`;
  }
}
