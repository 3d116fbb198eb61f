// The generators of the ops whose template is `generated`, by op name. Codegen owns them, so the
// op table names an op's code without importing the code generator.
import type { Node } from '../ir/types.ts';
import type { EmitArgs } from '../ops/op.ts';
import type { OpName } from '../ops/registry.ts';
import { emitMatmul, matmulScratchBytes } from './matmul.ts';

export interface Generator<A> {
  readonly emit: (args: EmitArgs<A>) => string;
  /** Bytes of scratch the emitted code needs while it runs (a packed GEMM operand). */
  readonly scratchBytes: (node: Node, inputs: readonly Node[], attrs: A, batchSize: number) => number;
}

type Attrs = Node['attrs'];

const generators: { readonly [K in OpName]?: Generator<Attrs> } = {
  matmul: { emit: (args) => emitMatmul(args), scratchBytes: matmulScratchBytes },
};

export function generatorOf(op: OpName): Generator<Attrs> {
  const generator = generators[op];
  if (!generator) throw new Error(`internal: op '${op}' has a generated template but no generator in codegen`);
  return generator;
}
