// What an op is: its shape rule, its float64 meaning, its vector-Jacobian product written as IR,
// and its code template. Each primitive defines all four in its own file; ops/registry.ts lists them.
import type { Dim, DType, Node, NodeId, Shape } from '../ir/types.ts';
import type { Tensor64 } from '../ir/tensor.ts';
import type { GraphBuilder } from '../ir/builder.ts';
import type { OpName } from './registry.ts';

export interface TypedShape {
  readonly shape: Shape;
  readonly dtype: DType;
}

export interface EvalContext {
  /** Rows in this call (binds the batch dimension). */
  readonly n: number;
  readonly node: Node;
}

export interface VjpArgs<A> {
  readonly inputs: readonly NodeId[];
  /** The op's own output: rules like sigmoid's reuse it instead of recomputing. */
  readonly out: NodeId;
  /** The cotangent of the output, same shape as it. */
  readonly g: NodeId;
  readonly attrs: A;
}

/** Input cotangents in input order; null where the input gets no gradient (labels, masks). */
export type Vjp<A> = (b: GraphBuilder, args: VjpArgs<A>) => readonly (NodeId | null)[];

export interface EmitArgs<A> {
  readonly node: Node;
  readonly inputs: readonly Node[];
  /** Byte address of the output buffer, as an AssemblyScript expression. */
  readonly out: string;
  /** Byte addresses of the input buffers, as AssemblyScript expressions. */
  readonly ins: readonly string[];
  readonly attrs: A;
  /** A dimension as an AssemblyScript i32 expression: a literal, or `n` for the batch. */
  readonly dim: (d: Dim) => string;
  /** Byte address of the node's scratch buffer, when its template asks for one. */
  readonly scratch?: string;
  /** The compiled batch size: the largest value `n` takes. */
  readonly batchSize?: number;
  /**
   * Floats between rows of the output where it is written into a block of columns of a wider
   * tensor (a concat's piece written in place: passes/fuse.ts); else rows are its own last axis.
   */
  readonly outRow?: number;
}

/**
 * The code template. Elementwise ops give scalar (and, where wasm has it, f32x4) expressions
 * and share one loop emitter; other ops emit a call into the hand-written kernels of assembly/.
 * A `generated` op's code is written by a generator of compiler/codegen/ that codegen looks up
 * by the op's name (matmul: the packed GEMM), so no op reaches up into code generation.
 */
export type Template<A> =
  | { readonly kind: 'source' }
  | { readonly kind: 'generated' }
  | {
      readonly kind: 'elementwise';
      /** f32 expression over the operand expressions. */
      readonly scalar: (...operands: string[]) => string;
      /** v128 (f32x4) expression, where wasm SIMD has the operation. */
      readonly simd?: (...operands: string[]) => string;
      /** A unary op's f32x4 form that also stores its derivative: see WithDerivative. */
      readonly withDerivative?: WithDerivative;
    }
  | {
      readonly kind: 'kernel';
      readonly emit: (args: EmitArgs<A>) => string;
      /** Bytes of scratch the emitted code needs while it runs (e.g. a packed GEMM operand). */
      readonly scratchBytes?: (node: Node, inputs: readonly Node[], attrs: A, batchSize: number) => number;
      /**
       * Readers of this node that its pass can compute too, the node itself then never stored
       * (log_softmax: its exp and the cross-entropy's label pick, in one pass over each row).
       * Fusion applies it when every reader is one of `ops`, reading this node first.
       */
      readonly fusedReaders?: FusedReaders<A>;
      /** The threaded build may compute its output in parts, each a range of independent units. */
      readonly parts?: PartedUnits<A>;
    };

/**
 * A unary op whose derivative op, read as `derivative(x, y)` with y this op's value, shares most of
 * its work (gelu and gelu′ both take e^(−x²/2)): `simd(x, dst)` is an f32x4 expression of this
 * op's value that also stores the derivative's four lanes at byte address `dst`.
 */
export interface WithDerivative {
  readonly op: OpName;
  readonly simd: (x: string, dst: string) => string;
}

/** The address of unit `first` (an i32 expression) of a buffer of units of `floats` f32 each: a part's start. */
export const unitAddress = (ptr: string, first: string, floats: number): string => (first === '0' ? ptr : `${ptr} + ((<usize>${first} * ${floats}) << 2)`);

/**
 * An output made of independent units (the matrices of a batched product, the rows of a softmax):
 * a part computes a range of them with the same code as the whole call, so any split gives the
 * same bits (compiler/codegen/threaded.ts decides whether a call is worth splitting).
 */
export interface PartedUnits<A> {
  /** How many units (an i32 expression of n), units per group a part keeps whole (a causal softmax's queries), and the multiply-adds' worth of time one unit takes. */
  readonly units: (args: EmitArgs<A>) => { readonly count: string; readonly group: number; readonly cost: number };
  /** The call that computes `count` units from unit `first` (i32 expressions). */
  readonly emit: (args: EmitArgs<A>, first: string, count: string) => string;
}

export interface FusedReaders<A> {
  readonly ops: readonly OpName[];
  /** The whole pass; `readers` maps each fused reader's op to its output and input addresses (this node's own `out` is unused). */
  readonly emit: (args: EmitArgs<A>, readers: ReadonlyMap<OpName, { readonly out: string; readonly ins: readonly string[] }>) => string;
}

export interface OpDef<A = Record<string, never>> {
  readonly name: string;
  /** Number of inputs. */
  readonly arity: number;
  readonly shape: (inputs: readonly TypedShape[], attrs: A) => TypedShape;
  readonly eval: (inputs: readonly Tensor64[], attrs: A, ctx: EvalContext) => Tensor64;
  readonly vjp: Vjp<A>;
  readonly template: Template<A>;
}

/** A shape rule's complaint; the builder adds which node and layer it was building. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}
