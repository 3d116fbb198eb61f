// Layers and losses composed from primitives. Nothing here has its own gradient
// rule: autodiff differentiates the primitives they are made of.
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';

/** Mean over every element, dividing by the row count of the call (partial batches included). */
export function mean(b: GraphBuilder, x: NodeId): NodeId {
  const rank = b.node(x).shape.length;
  const total = b.op('sum', [x], { axes: Array.from({ length: rank }, (_, i) => i) });
  return b.op('mul', [total, b.op('inv_count', [x])]);
}

/** z = a·Wᵀ + b for a of [N, in], W of [units, in] (PyTorch's nn.Linear layout). */
export function affine(b: GraphBuilder, a: NodeId, weight: NodeId, bias: NodeId | null): NodeId {
  const z = b.op('matmul', [a, weight], { transB: true });
  return bias === null ? z : b.op('add', [z, bias]);
}

/** min(max(x, lo), hi): exact selection, so values inside the range pass unchanged. */
export function clip(b: GraphBuilder, x: NodeId, lo: number, hi: number): NodeId {
  return b.op('minimum', [b.op('maximum', [x, b.constant(lo)]), b.constant(hi)]);
}

/**
 * Layer normalization over the last axis of [N, C]: (x − μ) / √(σ² + ε), then ·γ + β where given.
 * σ² is the biased variance, as Keras and PyTorch use. Autodiff differentiates through μ and σ².
 */
export function layerNorm(b: GraphBuilder, x: NodeId, gamma: NodeId | null, beta: NodeId | null, epsilon: number): NodeId {
  const width = b.node(x).shape[1] as number;
  const rowMean = (t: NodeId): NodeId => b.op('mul', [b.op('sum', [t], { axes: [1], keepDims: true }), b.constant(1 / width)]);
  const centered = b.op('sub', [x, rowMean(x)]);
  const variance = rowMean(b.op('mul', [centered, centered]));
  let y = b.op('div', [centered, b.op('sqrt', [b.op('add', [variance, b.constant(epsilon)])])]);
  if (gamma !== null) y = b.op('mul', [y, gamma]);
  if (beta !== null) y = b.op('add', [y, beta]);
  return y;
}

export interface BatchNormTensors {
  readonly gamma: NodeId | null;
  readonly beta: NodeId | null;
  /** Running statistics ([C] parameters, not trained). */
  readonly mean: NodeId;
  readonly variance: NodeId;
}

/**
 * Batch normalization over the rows of [N, C], as Keras: in training, (x − μ_B)/√(σ²_B + ε)·γ + β
 * with the statistics of the n rows given (biased variance), differentiated through μ_B and σ²_B,
 * and running ← momentum·running + (1 − momentum)·batch; in inference, the running statistics.
 */
export function batchNorm(
  b: GraphBuilder,
  x: NodeId,
  t: BatchNormTensors,
  options: { readonly epsilon: number; readonly momentum: number },
  training: boolean,
): { output: NodeId; updates: { stat: 'running_mean' | 'running_var'; value: NodeId }[] } {
  const width = b.node(x).shape[1] as number;
  let mean = t.mean;
  let variance = t.variance;
  const updates: { stat: 'running_mean' | 'running_var'; value: NodeId }[] = [];
  if (training) {
    // 1/n = C · 1/(n·C): inv_count binds the batch at run time.
    const invRows = b.op('mul', [b.op('inv_count', [x]), b.constant(width)]);
    const columnMean = (v: NodeId): NodeId => b.op('mul', [b.op('sum', [v], { axes: [0], keepDims: true }), invRows]);
    mean = columnMean(x);
    const centered0 = b.op('sub', [x, mean]);
    variance = columnMean(b.op('mul', [centered0, centered0]));
    const blend = (running: NodeId, batch: NodeId): NodeId =>
      b.op('add', [
        b.op('mul', [b.constant(options.momentum), running]),
        b.op('mul', [b.constant(1 - options.momentum), b.op('reshape', [batch], { shape: [width] })]),
      ]);
    updates.push({ stat: 'running_mean', value: blend(t.mean, mean) }, { stat: 'running_var', value: blend(t.variance, variance) });
  }
  let y = b.op('div', [b.op('sub', [x, mean]), b.op('sqrt', [b.op('add', [variance, b.constant(options.epsilon)])])]);
  if (t.gamma !== null) y = b.op('mul', [y, t.gamma]);
  if (t.beta !== null) y = b.op('add', [y, t.beta]);
  return { output: y, updates };
}
