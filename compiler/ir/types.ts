// The IR: one node type, static shapes with a symbolic batch dimension.
//
// A dimension is either a compile-time size or BATCH, the row count n of the current call
// (1 ≤ n ≤ the compiled maximum B). Kernels loop to n; mean reductions divide by it.

import type { OpAttrs, OpName } from '../ops/registry.ts';

export const BATCH = 'N' as const;
export type Dim = number | typeof BATCH;
export type Shape = readonly Dim[];
export type DType = 'f32' | 'i32';
export type NodeId = number;

interface NodeOf<K extends OpName> {
  readonly id: NodeId;
  readonly op: K;
  readonly inputs: readonly NodeId[];
  /** The op's own attributes (OpDef<A>'s A): testing `op` narrows them. */
  readonly attrs: OpAttrs<K>;
  readonly shape: Shape;
  readonly dtype: DType;
  /** Where the node came from (layer or tensor name), for printing and error messages. */
  readonly label?: string;
}

/** A node of op K; Node alone is a node of any op, a union discriminated by `op`. */
export type Node<K extends OpName = OpName> = K extends OpName ? NodeOf<K> : never;

/** A named tensor of the graph's interface: an input, an output, a parameter. */
export interface Port {
  readonly name: string;
  readonly id: NodeId;
}

export interface Graph {
  /** Nodes in topological order: every input of a node precedes it. */
  readonly nodes: readonly Node[];
  readonly inputs: readonly Port[];
  readonly params: readonly Port[];
  /** Named results: `prediction`, `loss`, and in a training graph `grad:<param>`. */
  readonly outputs: readonly Port[];
  /**
   * Persistent tensors that are not trained: optimizer state (momenta, second moments) and the
   * step counter. Like parameters they keep their values between calls; absent means none.
   */
  readonly state?: readonly Port[];
  /**
   * What a training step writes back: after the step, the parameter or state tensor named
   * `target` takes the value of node `value`. All values are computed before any is written.
   */
  readonly updates: readonly { readonly target: string; readonly value: NodeId }[];
}

export function shapeToString(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Number of elements once the batch dimension is bound to n. */
export function numel(shape: Shape, n: number): number {
  let count = 1;
  for (const d of shape) count *= d === BATCH ? n : d;
  return count;
}

export function bindShape(shape: Shape, n: number): number[] {
  return shape.map((d) => (d === BATCH ? n : d));
}

export function findPort(ports: readonly Port[], name: string): Port | undefined {
  return ports.find((p) => p.name === name);
}

/** `roots` and every node they depend on, transitively: what evaluating the roots needs. */
export function ancestors(nodes: readonly Node[], roots: readonly NodeId[]): Set<NodeId> {
  const found = new Set<NodeId>();
  const stack = [...roots];
  while (stack.length) {
    const id = stack.pop()!;
    if (found.has(id)) continue;
    found.add(id);
    stack.push(...nodes[id]!.inputs);
  }
  return found;
}
