// Blocks of columns along the last axis: zero blocks (a slice's cotangent padded back to its
// operand's width), and joins by halves: a balanced tree of two-operand concats, so each level
// copies the whole width once (a chain would copy its growing prefix once per piece).
import type { GraphBuilder } from './builder.ts';
import type { NodeId, Shape } from './types.ts';

/** Zeros of `shape` but `columns` wide. */
export function zeroColumns(b: GraphBuilder, shape: Shape, columns: number): NodeId {
  return b.op('broadcast', [b.constant(0)], { shape: [...shape.slice(0, -1), columns] });
}

/** Whether `id` is a block of zeros (a broadcast of the constant 0). */
export function isZeros(b: GraphBuilder, id: NodeId): boolean {
  const node = b.node(id);
  if (node.op !== 'broadcast') return false;
  const value = b.node(node.inputs[0]!);
  return value.op === 'constant' && value.attrs.value === 0;
}

/** The pieces joined along the last axis, by halves. */
export function joinColumns(b: GraphBuilder, parts: readonly NodeId[]): NodeId {
  if (parts.length === 1) return parts[0]!;
  const half = Math.floor(parts.length / 2);
  return b.op('concat', [joinColumns(b, parts.slice(0, half)), joinColumns(b, parts.slice(half))]);
}
