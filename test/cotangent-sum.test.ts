// The backward pass joins the cotangents of disjoint column slices (Q, K and V cut from one
// projection, an LSTM's gates, an unrolled layer's steps) into one concatenation instead of
// padding each with zeros and adding them; overlapping slices are still added. Checked on the
// float64 interpreter against the sum it replaces, and by the graph it builds.
import { describe, expect, it } from 'vitest';
import { grad } from '../compiler/autodiff/grad.ts';
import { evaluateGraph } from '../compiler/interpret/evaluate.ts';
import { GraphBuilder } from '../compiler/ir/builder.ts';
import { tensor64, type Tensor64 } from '../compiler/ir/tensor.ts';
import { ancestors, BATCH, type NodeId } from '../compiler/ir/types.ts';

const ROWS = 3;
const WIDTH = 7;
const X = tensor64([ROWS, WIDTH], Float64Array.from({ length: ROWS * WIDTH }, (_, i) => Math.sin(i + 1)));

/** The loss term of the k-th piece: (k + 2) · Σ tanh(piece) (each piece read once: no fan-out of its own). */
const term = (b: GraphBuilder, piece: NodeId, k: number): NodeId => b.op('mul', [b.constant(k + 2), b.op('sum', [b.op('tanh', [piece])], { axes: [0, 1] })]);

/** d loss / dx for the pieces `cut` takes from x [N, 7]: its graph and its value on X. */
function gradientOf(cut: (b: GraphBuilder, x: NodeId) => NodeId[]): { readonly b: GraphBuilder; readonly dx: NodeId; readonly value: Tensor64 } {
  const b = new GraphBuilder();
  const x = b.input('x', [BATCH, WIDTH]);
  const loss = cut(b, x).map((piece, k) => term(b, piece, k)).reduce((acc, t) => b.op('add', [acc, t]));
  const dx = grad(b, loss, [x]).get(x)!;
  const value = evaluateGraph({ nodes: b.nodes, inputs: [], params: [], outputs: [], updates: [] }, [dx], () => X, ROWS).get(dx)!;
  return { b, dx, value };
}

const slicesOf = (slices: readonly (readonly [number, number])[]) => (b: GraphBuilder, x: NodeId): NodeId[] => slices.map(([start, size]) => b.op('slice', [x], { start, size }));

/** The same gradient written out: for each slice covering a column, (k + 2)·(1 − tanh²). */
function expected(slices: readonly (readonly [number, number])[]): number[] {
  return Array.from(X.data, (v, i) => slices.reduce((s, [start, size], k) => (i % WIDTH >= start && i % WIDTH < start + size ? s + (k + 2) * (1 - Math.tanh(v) ** 2) : s), 0));
}

function expectValues(value: Tensor64, want: readonly number[]): void {
  expect(value.data).toHaveLength(want.length);
  want.forEach((v, k) => expect(value.data[k], `element ${k}`).toBeCloseTo(v, 12));
}

const opsOf = (b: GraphBuilder, id: NodeId): string[] => [...ancestors(b.nodes, [id])].map((n) => b.node(n).op);

describe('cotangents of column slices', () => {
  it('disjoint slices (with gaps) join into one concatenation, no additions, the same values', () => {
    const slices = [[0, 2], [3, 2], [5, 1]] as const;
    const { b, dx, value } = gradientOf(slicesOf(slices));
    expectValues(value, expected(slices));
    const ops = opsOf(b, dx);
    expect(ops).not.toContain('add');
    // Three pieces and two zero gaps (column 2, column 6): four concats, balanced.
    expect(ops.filter((op) => op === 'concat')).toHaveLength(4);
    expect(b.node(dx).op).toBe('concat');
  });

  it('slices of slices (cut by halves, as the recurrent layers cut their steps) join into one concatenation too', () => {
    const { b, dx, value } = gradientOf((b, x) => {
      const left = b.op('slice', [x], { start: 0, size: 4 });
      return [b.op('slice', [left], { start: 0, size: 2 }), b.op('slice', [left], { start: 2, size: 2 }), b.op('slice', [x], { start: 4, size: 3 })];
    });
    expectValues(value, expected([[0, 2], [2, 2], [4, 3]]));
    expect(opsOf(b, dx)).not.toContain('add');
  });

  it('overlapping slices are added, with the same values', () => {
    const slices = [[0, 4], [2, 5]] as const;
    const { b, dx, value } = gradientOf(slicesOf(slices));
    expectValues(value, expected(slices));
    expect(b.node(dx).op).toBe('add');
  });
});
