// Joining tensors along the last axis by halves: a balanced tree of two-operand concats, so each
// level copies the whole width once (a chain would copy its growing prefix once per piece).
import type { GraphBuilder } from './builder.ts';
import type { NodeId } from './types.ts';

/** The pieces joined along the last axis, by halves. */
export function joinColumns(b: GraphBuilder, parts: readonly NodeId[]): NodeId {
  if (parts.length === 1) return parts[0]!;
  const half = Math.floor(parts.length / 2);
  return b.op('concat', [joinColumns(b, parts.slice(0, half)), joinColumns(b, parts.slice(half))]);
}
