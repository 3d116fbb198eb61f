// The code of the ops whose template is `generated`, by op name. Codegen owns these generators,
// so the op table names an op's code without importing the code generator.
import type { Node } from '../ir/types.ts';
import type { EmitArgs } from '../ops/op.ts';
import type { AnyAttrs } from '../ops/registry.ts';
import { emitMatmul, matmulScratchBytes } from './matmul.ts';

/** `split`: the code of one part (threaded build), where the op's generator runs in parts. */
export function emitGenerated(args: EmitArgs<AnyAttrs>, split = false): string {
  const { node } = args;
  switch (node.op) {
    case 'matmul':
      return emitMatmul({ ...args, node, attrs: node.attrs }, undefined, split);
    default:
      throw new Error(`internal: op '${node.op}' has a generated template but no generator in codegen`);
  }
}

/** Bytes of scratch a generated op's code needs while it runs (a packed GEMM operand). */
export function generatedScratchBytes(node: Node, inputs: readonly Node[], batchSize: number): number {
  switch (node.op) {
    case 'matmul':
      return matmulScratchBytes(node, inputs, node.attrs, batchSize);
    default:
      return 0;
  }
}
