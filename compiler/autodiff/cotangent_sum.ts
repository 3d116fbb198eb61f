// The sum of a node's cotangent contributions. Where a tensor is cut into column slices (an
// attention layer's Q, K and V from one projection, an LSTM's four gates, an unrolled layer's time
// steps), each slice's vjp pads its cotangent back to the full width with zero blocks
// (ops/concat.ts); adding those padded copies would write and read the full width once per slice.
// Where the padded contributions cover disjoint columns, their sum is the concatenation of their
// pieces, zeros in the gaps: one join instead of the padding and the additions (x + 0 = x, but
// for the sign of a zero).
import type { GraphBuilder } from '../ir/builder.ts';
import { isZeros, joinColumns, zeroColumns } from '../ir/columns.ts';
import type { NodeId } from '../ir/types.ts';

/** A block of columns [start, start + width) of a padded cotangent, and the node that holds it. */
interface Piece {
  readonly start: number;
  readonly width: number;
  readonly id: NodeId;
}

/** Columns of the last axis; null where that axis is not a fixed size. */
function widthOf(b: GraphBuilder, id: NodeId): number | null {
  const d = b.node(id).shape.at(-1);
  return typeof d === 'number' ? d : null;
}

/** The nonzero blocks of a concat tree whose leaves are zero blocks or tensors; null for any other node. */
function paddedPieces(b: GraphBuilder, id: NodeId): Piece[] | null {
  if (b.node(id).op !== 'concat') return null;
  const pieces: Piece[] = [];
  const walk = (at: NodeId, start: number): boolean => {
    const node = b.node(at);
    const width = widthOf(b, at);
    if (width === null) return false;
    if (node.op === 'concat') return walk(node.inputs[0]!, start) && walk(node.inputs[1]!, start + widthOf(b, node.inputs[0]!)!);
    if (!isZeros(b, at)) pieces.push({ start, width, id: at });
    return true;
  };
  return walk(id, 0) ? pieces : null;
}

/** Σ parts: the padded contributions with disjoint columns joined into one, the rest added to it in order. */
export function sumCotangents(b: GraphBuilder, parts: readonly NodeId[]): NodeId {
  const padded = parts.map((p) => ({ id: p, pieces: parts.length > 1 ? paddedPieces(b, p) : null }));
  const joinable = padded.filter((p): p is { id: NodeId; pieces: Piece[] } => p.pieces !== null);
  const pieces = joinable.flatMap((p) => p.pieces).sort((x, y) => x.start - y.start);
  const disjoint = pieces.every((p, k) => k === 0 || pieces[k - 1]!.start + pieces[k - 1]!.width <= p.start);
  if (joinable.length < 2 || !disjoint) return parts.reduce((acc, part) => b.op('add', [acc, part]));
  const shape = b.node(parts[0]!).shape;
  const width = widthOf(b, parts[0]!)!;
  const blocks: NodeId[] = [];
  let at = 0;
  for (const p of pieces) {
    if (p.start > at) blocks.push(zeroColumns(b, shape, p.start - at));
    blocks.push(p.id);
    at = p.start + p.width;
  }
  if (at < width) blocks.push(zeroColumns(b, shape, width - at));
  const joined = joinColumns(b, blocks);
  const rest = padded.filter((p) => p.pieces === null).map((p) => p.id);
  return rest.reduce((acc, part) => b.op('add', [acc, part]), joined);
}
