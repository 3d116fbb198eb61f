// One line per op: its vjp (as IR, through the backward walker) against centered differences of
// its float64 semantics, with broadcasting where the op allows it. Adding an op adds a line here.
import { describe, expect, it } from 'vitest';
import { grad } from '../compiler/autodiff/grad.ts';
import { evaluateGraph } from '../compiler/interpret/evaluate.ts';
import { GraphBuilder } from '../compiler/ir/builder.ts';
import { tensor64, type Tensor64 } from '../compiler/ir/tensor.ts';
import { BATCH, type Graph, type NodeId, type Shape } from '../compiler/ir/types.ts';
import { ops, type OpName } from '../compiler/ops/registry.ts';
import { relativeDifference } from '../compiler/gradcheck/numerical.ts';
import { Rng } from '../runtime/prng.ts';

interface OpCase {
  readonly op: OpName;
  readonly shapes: readonly Shape[];
  readonly attrs?: Record<string, unknown>;
  /** Keeps operand values where the op is smooth (log needs x > 0, relu/step x away from 0), or spreads them over [−4, 4] (gelu's erfc tail). */
  readonly domain?: 'positive' | 'away-from-zero' | 'wide';
  /** Operand k is integer labels in [0, classes). */
  readonly labels?: { readonly operand: number; readonly classes: number };
  /** Operands held fixed (inputs, no gradient taken): the argmax-selecting x of the max-pool companions, gelu_derivative's y. */
  readonly fixed?: readonly number[];
}

const N = 5;
const CASES: readonly OpCase[] = [
  { op: 'add', shapes: [[BATCH, 3], [3]] },
  { op: 'sub', shapes: [[BATCH, 3], [BATCH, 1]] },
  { op: 'mul', shapes: [[BATCH, 3], []] },
  { op: 'div', shapes: [[BATCH, 3], [3]], domain: 'positive' },
  { op: 'neg', shapes: [[BATCH, 3]] },
  { op: 'exp', shapes: [[BATCH, 3]] },
  { op: 'log', shapes: [[BATCH, 3]], domain: 'positive' },
  { op: 'sigmoid', shapes: [[BATCH, 4]] },
  { op: 'tanh', shapes: [[BATCH, 4]] },
  { op: 'relu', shapes: [[BATCH, 4]], domain: 'away-from-zero' },
  { op: 'maximum', shapes: [[BATCH, 3], [3]] },
  { op: 'minimum', shapes: [[BATCH, 3], [BATCH, 3]] },
  { op: 'abs', shapes: [[BATCH, 4]], domain: 'away-from-zero' },
  { op: 'softplus', shapes: [[BATCH, 4]] },
  { op: 'erf', shapes: [[BATCH, 4]] },
  { op: 'gelu', shapes: [[BATCH, 4]] },
  { op: 'gelu', shapes: [[BATCH, 4]], domain: 'wide' },
  { op: 'gelu_derivative', shapes: [[BATCH, 4], [BATCH, 4]], fixed: [1] },
  { op: 'gelu_derivative', shapes: [[BATCH, 4], [BATCH, 4]], fixed: [1], domain: 'wide' },
  { op: 'sqrt', shapes: [[BATCH, 3]], domain: 'positive' },
  { op: 'cos', shapes: [[BATCH, 3]] },
  { op: 'sin', shapes: [[BATCH, 3]] },
  { op: 'bce_logits', shapes: [[BATCH, 2], [BATCH, 2]], domain: 'away-from-zero' },
  { op: 'matmul', shapes: [[BATCH, 3], [4, 3]], attrs: { transB: true } },
  { op: 'matmul', shapes: [[BATCH, 3], [3, 2]] },
  { op: 'matmul', shapes: [[BATCH, 3], [BATCH, 2]], attrs: { transA: true } },
  { op: 'matmul', shapes: [[3, BATCH], [2, 3]], attrs: { transA: true, transB: true } },
  { op: 'matmul', shapes: [[BATCH, 2, 3], [4, 3]], attrs: { transB: true } },
  { op: 'matmul', shapes: [[BATCH, 2, 3], [3, 4]] },
  { op: 'matmul', shapes: [[BATCH, 2, 3], [BATCH, 2, 4]], attrs: { transA: true } },
  { op: 'im2col', shapes: [[BATCH, 4, 5, 2]], attrs: { kernel: [3, 2], strides: [1, 2], dilation: [1, 1], pads: [[1, 1], [0, 1]] } },
  { op: 'im2col', shapes: [[BATCH, 5, 5, 1]], attrs: { kernel: [2, 2], strides: [2, 1], dilation: [2, 1], pads: [[0, 0], [1, 0]] } },
  { op: 'im2col', shapes: [[BATCH, 6, 2]], attrs: { kernel: [3], strides: [2], dilation: [1], pads: [[1, 1]] } },
  { op: 'col2im', shapes: [[BATCH, 4, 3, 12]], attrs: { kernel: [3, 2], strides: [1, 2], dilation: [1, 1], pads: [[1, 1], [0, 1]], spatial: [4, 5] } },
  { op: 'col2im', shapes: [[BATCH, 3, 6]], attrs: { kernel: [3], strides: [2], dilation: [1], pads: [[1, 1]], spatial: [6] } },
  { op: 'sum', shapes: [[BATCH, 3]], attrs: { axes: [0] } },
  { op: 'sum', shapes: [[BATCH, 3]], attrs: { axes: [1] } },
  { op: 'sum', shapes: [[BATCH, 3]], attrs: { axes: [1], keepDims: true } },
  { op: 'sum', shapes: [[BATCH, 3]], attrs: { axes: [0, 1] } },
  { op: 'sum', shapes: [[BATCH, 2, 3]], attrs: { axes: [0, 1] } },
  { op: 'sum', shapes: [[BATCH, 2, 3]], attrs: { axes: [1, 2] } },
  { op: 'reshape', shapes: [[BATCH, 1]], attrs: { shape: [BATCH] } },
  { op: 'broadcast', shapes: [[3]], attrs: { shape: [BATCH, 3] } },
  { op: 'concat', shapes: [[BATCH, 2], [BATCH, 3]] },
  { op: 'slice', shapes: [[BATCH, 5]], attrs: { start: 1, size: 3 } },
  { op: 'log_softmax', shapes: [[BATCH, 4]] },
  { op: 'log_softmax', shapes: [[BATCH, 3, 4]] },
  { op: 'batch_matmul', shapes: [[BATCH, 2, 3, 4], [BATCH, 2, 4, 3]] },
  { op: 'batch_matmul', shapes: [[BATCH, 2, 3, 4], [BATCH, 2, 5, 4]], attrs: { transB: true } },
  { op: 'batch_matmul', shapes: [[BATCH, 4, 3], [BATCH, 4, 2]], attrs: { transA: true } },
  { op: 'batch_matmul', shapes: [[2, 4, 3], [2, 5, 4]], attrs: { transA: true, transB: true } },
  { op: 'batch_matmul', shapes: [[BATCH, 3, 2, 4], [BATCH, 3, 4, 2]], attrs: { scale: 0.5 } },
  { op: 'batch_matmul', shapes: [[BATCH, 3, 10], [BATCH, 4, 10]], attrs: { transB: true, scale: 0.7, headsA: { heads: 2, start: 1, size: 4 }, headsB: { heads: 2, start: 5, size: 4 } } },
  { op: 'batch_matmul', shapes: [[BATCH, 2, 3, 4], [BATCH, 4, 7]], attrs: { headsB: { heads: 2, start: 0, size: 6 }, mergeHeads: true } },
  { op: 'batch_matmul', shapes: [[BATCH, 4, 9], [BATCH, 2, 4, 3]], attrs: { transA: true, headsA: { heads: 2, start: 3, size: 6 }, mergeHeads: true } },
  { op: 'batch_matmul', shapes: [[BATCH, 3, 8], [BATCH, 2, 8]], attrs: { transA: true, transB: true, scale: -2, headsA: { heads: 2, start: 0, size: 4 }, headsB: { heads: 2, start: 2, size: 6 }, mergeHeads: true } },
  { op: 'softmax', shapes: [[BATCH, 5]] },
  { op: 'softmax', shapes: [[BATCH, 2, 4, 4]], attrs: { causal: true } },
  { op: 'softmax', shapes: [[BATCH, 3, 4]], attrs: { causal: true } },
  { op: 'softmax_grad', shapes: [[BATCH, 2, 6], [BATCH, 2, 6]] },
  { op: 'softmax_grad', shapes: [[BATCH, 4], [BATCH, 4]], domain: 'positive' },
  { op: 'gather_label', shapes: [[BATCH, 4], [BATCH]], labels: { operand: 1, classes: 4 } },
  { op: 'gather_label', shapes: [[BATCH, 3, 4], [BATCH, 3]], labels: { operand: 1, classes: 4 } },
  { op: 'scatter_label', shapes: [[BATCH, 2], [BATCH, 2]], attrs: { classes: 3 }, labels: { operand: 1, classes: 3 } },
  { op: 'softmax_xent_labels_grad', shapes: [[BATCH, 2, 4], [BATCH, 2], [BATCH, 2]], labels: { operand: 1, classes: 4 } },
  { op: 'scatter_label', shapes: [[BATCH], [BATCH]], attrs: { classes: 3 }, labels: { operand: 1, classes: 3 } },
  { op: 'gather_rows', shapes: [[6, 3], [BATCH, 4]], labels: { operand: 1, classes: 6 } },
  { op: 'scatter_rows', shapes: [[BATCH, 4, 3], [BATCH, 4]], attrs: { rows: 6 }, labels: { operand: 1, classes: 6 } },
  { op: 'softmax_xent_labels_grad', shapes: [[BATCH, 4], [BATCH], [BATCH]], labels: { operand: 1, classes: 4 } },
  { op: 'max_pool', shapes: [[BATCH, 4, 5, 3]], attrs: { pool: [2, 2], strides: [2, 2], padding: 'valid' } },
  { op: 'max_pool', shapes: [[BATCH, 5, 4, 2]], attrs: { pool: [3, 2], strides: [1, 2], padding: 'same' } },
  { op: 'max_pool', shapes: [[BATCH, 7, 2]], attrs: { pool: [3], strides: [2], padding: 'same' } },
  { op: 'max_pool_scatter', shapes: [[BATCH, 5, 5, 2], [BATCH, 3, 3, 2]], attrs: { pool: [3, 3], strides: [2, 2], padding: 'same' }, fixed: [0] },
  { op: 'max_pool_gather', shapes: [[BATCH, 4, 4, 3], [BATCH, 4, 4, 3]], attrs: { pool: [2, 2], strides: [1, 1], padding: 'valid' }, fixed: [0] },
  { op: 'avg_pool', shapes: [[BATCH, 5, 5, 2]], attrs: { pool: [3, 3], strides: [2, 2], padding: 'same' } },
  { op: 'avg_pool', shapes: [[BATCH, 4, 6, 3]], attrs: { pool: [2, 3], strides: [2, 3], padding: 'valid' } },
  { op: 'avg_pool', shapes: [[BATCH, 6, 2]], attrs: { pool: [4], strides: [1], padding: 'same' } },
  { op: 'avg_pool_transpose', shapes: [[BATCH, 3, 3, 2]], attrs: { pool: [3, 3], strides: [2, 2], padding: 'same', input: [BATCH, 5, 5, 2] } },
  { op: 'sum', shapes: [[BATCH, 3, 2, 4]], attrs: { axes: [1, 2] } },
  { op: 'sum', shapes: [[BATCH, 3, 2, 4]], attrs: { axes: [0, 1, 2], keepDims: true } },
  { op: 'layer_norm', shapes: [[BATCH, 3]], attrs: { epsilon: 1e-3 } },
  { op: 'layer_norm', shapes: [[BATCH, 2, 5]], attrs: { epsilon: 1e-3 } },
  { op: 'layer_norm', shapes: [[BATCH, 2, 2, 67]], attrs: { epsilon: 1e-5 } },
  { op: 'layer_norm', shapes: [[BATCH, 64]], attrs: { epsilon: 0.1 } },
  { op: 'layer_norm_grad', shapes: [[BATCH, 3], [BATCH, 3], [3]], attrs: { epsilon: 1e-3 } },
  { op: 'layer_norm_grad', shapes: [[BATCH, 2, 67], [BATCH, 2, 67], [67]], attrs: { epsilon: 1e-3 } },
  { op: 'layer_norm_grad', shapes: [[BATCH, 2, 2, 5], [BATCH, 2, 2, 5], [5]], attrs: { epsilon: 1e-5 } },
  { op: 'layer_norm_grad', shapes: [[BATCH, 64], [BATCH, 64], [64]], attrs: { epsilon: 0.1 } },
];
const WITHOUT_GRADIENT: readonly OpName[] = ['input', 'param', 'state', 'constant', 'step', 'floor', 'dropout_mask', 'inv_count', 'nonzero'];

const bind = (shape: Shape): number[] => shape.map((d) => (d === BATCH ? N : d));

function operandValues(c: OpCase, k: number, rng: Rng): Float64Array {
  const size = bind(c.shapes[k]!).reduce((a, b) => a * b, 1);
  const data = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    if (c.labels?.operand === k) data[i] = rng.below(c.labels.classes);
    else if (c.domain === 'positive') data[i] = 0.5 + rng.uniform() * 2;
    else if (c.domain === 'away-from-zero') data[i] = (rng.uniform() < 0.5 ? -1 : 1) * (0.2 + rng.uniform());
    else if (c.domain === 'wide') data[i] = 8 * rng.uniform() - 4;
    else data[i] = 2 * rng.uniform() - 1;
  }
  return data;
}

/** loss = Σ out ⊙ R for a fixed random R, so every output element carries a different weight. */
function build(c: OpCase): { graph: Graph; operands: NodeId[]; loss: NodeId; grads: Map<NodeId, NodeId> } {
  const b = new GraphBuilder();
  const operands = c.shapes.map((shape, k) =>
    c.labels?.operand === k ? b.input(`in${k}`, shape, 'i32') : c.fixed?.includes(k) ? b.input(`in${k}`, shape) : b.param(`p${k}`, shape),
  );
  const out = b.op(c.op, operands, c.attrs as never);
  const r = b.param('r', b.node(out).shape);
  const loss = b.op('sum', [b.op('mul', [out, r])], { axes: b.node(out).shape.map((_, i) => i) });
  const differentiable = operands.filter((_, k) => c.labels?.operand !== k && !c.fixed?.includes(k));
  const grads = grad(b, loss, differentiable);
  return { graph: { nodes: b.nodes, inputs: [], params: [], outputs: [], updates: [] }, operands: differentiable, loss, grads };
}

describe('every op: vjp vs centered differences (float64)', () => {
  it('covers every op in the registry', () => {
    const covered = new Set([...CASES.map((c) => c.op), ...WITHOUT_GRADIENT]);
    expect(Object.keys(ops).filter((op) => !covered.has(op as OpName))).toEqual([]);
  });

  it.each(CASES.map((c) => [`${c.op}${c.attrs ? ' ' + JSON.stringify(c.attrs) : ''} ${c.shapes.map((s) => `[${s.join(',')}]`).join(' ')}`, c] as const))('%s', (_name, c) => {
    const rng = new Rng(42, 7);
    const { graph, operands, loss, grads } = build(c);
    const values = new Map<string, Tensor64>();
    c.shapes.forEach((shape, k) => values.set(c.labels?.operand === k || c.fixed?.includes(k) ? `in${k}` : `p${k}`, tensor64(bind(shape), operandValues(c, k, rng))));
    const outShape = bind(graph.nodes[graph.nodes.findIndex((n) => n.op === c.op)]!.shape);
    values.set('r', tensor64(outShape, Float64Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => 2 * rng.uniform() - 1)));
    const run = (wanted: NodeId[]): Map<NodeId, Tensor64> => evaluateGraph(graph, wanted, (name) => values.get(name)!, N);

    const analytic = run(operands.map((id) => grads.get(id)!));
    for (const id of operands) {
      const source = graph.nodes[id]!;
      if (source.op !== 'input' && source.op !== 'param') throw new Error(`internal: %${id} is not an operand`);
      const name = source.attrs.name;
      const x = values.get(name)!.data;
      const numeric = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const keep = x[i]!;
        const h = Math.cbrt(Number.EPSILON) * Math.max(1, Math.abs(keep));
        x[i] = keep + h;
        const plus = run([loss]).get(loss)!.data[0]!;
        x[i] = keep - h;
        const minus = run([loss]).get(loss)!.data[0]!;
        x[i] = keep;
        numeric[i] = (plus - minus) / (2 * h);
      }
      const g = analytic.get(grads.get(id)!)!.data;
      expect(Math.hypot(...numeric), `${name}: numerical gradient is zero`).toBeGreaterThan(0);
      expect(relativeDifference(g, numeric), `${c.op} operand ${name}`).toBeLessThan(1e-7);
    }
  });
});
