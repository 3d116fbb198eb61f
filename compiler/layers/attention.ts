// Multi-head scaled dot-product attention as IR, shared by the multi_head_attention layer and the
// transformer block. Parameters are laid out as torch.nn.MultiheadAttention's: the query, key and
// value projections stacked in one `in_proj_weight` [H·(2·keyDim + valueDim), E] (rows q, then k,
// then v) with `in_proj_bias`, and `out_proj.weight` [E, H·valueDim] with `out_proj.bias`. Where
// H·keyDim = H·valueDim = E this is exactly torch's module (head width E / H).
//
// Per head h: softmax(Q_h·K_hᵀ / √keyDim [+ causal mask]) · V_h, the heads concatenated, then the
// output projection. The two products are batch_matmuls over [N, H] that read each head's columns
// of the projection in place and write the values with their heads merged ([N, T, H·valueDim]), so
// no slice, reshape or transpose copies the heads in between (ops/batch_matmul.ts).
//
// Masks (Keras's): a query mask [N, Tq] and a key mask [N, Tk] make the visible pairs [N, 1, Tq, Tk];
// a hidden pair's score gets −1e9 before the softmax (Keras's large negative number for float32)
// and its weight is multiplied by 0 after it, so a fully masked query row attends to nothing (its
// output is the output bias), as Keras 3's masked softmax does.
import type { GraphBuilder } from '../ir/builder.ts';
import { BATCH, type NodeId } from '../ir/types.ts';
import type { InitializerSpec } from '../init/initializers.ts';
import type { HeadsView } from '../ops/batch_matmul.ts';
import { affine } from './dense.ts';
import { LayerShapeError, type FeatureShape, type ParamDecl } from './layer.ts';
import type { OnnxEmitter } from './interop/types.ts';

export interface AttentionShape {
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
}

export interface AttentionParams {
  readonly inWeight: NodeId;
  readonly inBias: NodeId | null;
  readonly outWeight: NodeId;
  readonly outBias: NodeId | null;
}

/** The parameter suffixes, torch's names under a prefix (`self_attn.` in the transformer block). */
export const attentionSuffixes = (prefix: string) =>
  ({ inWeight: `${prefix}in_proj_weight`, inBias: `${prefix}in_proj_bias`, outWeight: `${prefix}out_proj.weight`, outBias: `${prefix}out_proj.bias` }) as const;

/** Rows of the stacked projection: H·keyDim for queries and for keys, H·valueDim for values. */
const projectionRows = (a: AttentionShape): number => a.numHeads * (2 * a.keyDim + a.valueDim);

export function attentionParams(prefix: string, a: AttentionShape, width: number, useBias: boolean, kernel: InitializerSpec, bias: InitializerSpec): ParamDecl[] {
  const s = attentionSuffixes(prefix);
  const rows = projectionRows(a);
  return [
    { suffix: s.inWeight, shape: [rows, width], init: kernel },
    ...(useBias ? [{ suffix: s.inBias, shape: [rows], init: bias }] : []),
    { suffix: s.outWeight, shape: [width, a.numHeads * a.valueDim], init: kernel },
    ...(useBias ? [{ suffix: s.outBias, shape: [width], init: bias }] : []),
  ];
}

/** The checks every attention input passes: [steps, E] each, one width E, keys and values of one length. */
export function attentionInputs(type: string, [query, value, key]: readonly FeatureShape[]): void {
  for (const [role, shape] of [['query', query], ['value', value], ['key', key]] as const) {
    if (shape !== undefined && shape.length !== 2) throw new LayerShapeError(`${type} takes sequences [steps, features]; its ${role} is rank ${shape.length}`);
  }
  const width = query![1]!;
  for (const [role, shape] of [['value', value], ['key', key]] as const) {
    if (shape !== undefined && shape[1] !== width) throw new LayerShapeError(`${type}: the ${role} has ${shape[1]} features and the query ${width}; inputs of one width only (the projections are stacked in one in_proj_weight)`);
  }
  if (value !== undefined && key !== undefined && value[0] !== key[0]) throw new LayerShapeError(`${type}: the key has ${key[0]} steps and the value ${value[0]}; they must be equal`);
}

/** The masks of attention's two axes: the queries' [N, Tq] and the keys' [N, Tk] (the value's and the key's multiplied), each null where none. */
export interface AttentionMasks {
  readonly query: NodeId | null;
  readonly key: NodeId | null;
}

/** The visible (query, key) pairs [N, 1, Tq, Tk] (or a broadcastable part of it), or null without masks. */
function visiblePairs(b: GraphBuilder, masks: AttentionMasks | null, tq: number, tk: number): NodeId | null {
  const rows = masks?.query ? b.op('reshape', [masks.query], { shape: [BATCH, 1, tq, 1] }) : null;
  const columns = masks?.key ? b.op('reshape', [masks.key], { shape: [BATCH, 1, 1, tk] }) : null;
  if (rows === null || columns === null) return rows ?? columns;
  return b.op('mul', [rows, columns]);
}

/**
 * Attention of `query` [N, Tq, E] over `key` and `value` [N, Tk, E] (the same node for
 * self-attention: then one GEMM projects all three). With `causal`, query i sees keys j ≤ i;
 * `masks` hide masked queries and keys.
 */
export function multiHeadAttention(b: GraphBuilder, query: NodeId, key: NodeId, value: NodeId, p: AttentionParams, a: AttentionShape, causal: boolean, masks: AttentionMasks | null = null): NodeId {
  const H = a.numHeads;
  const qWidth = H * a.keyDim;
  const vWidth = H * a.valueDim;
  // One projection per distinct input, all rows; each role reads its columns as heads in place.
  const projected = new Map<NodeId, NodeId>();
  const project = (x: NodeId): NodeId => {
    let all = projected.get(x);
    if (all === undefined) projected.set(x, (all = affine(b, x, p.inWeight, p.inBias)));
    return all;
  };
  const headsAt = (start: number, size: number): HeadsView => ({ heads: H, start, size });
  const scores = b.op('batch_matmul', [project(query), project(key)], { transB: true, scale: 1 / Math.sqrt(a.keyDim), headsA: headsAt(0, qWidth), headsB: headsAt(qWidth, qWidth) });
  const tq = b.node(query).shape[1] as number;
  const tk = b.node(key).shape[1] as number;
  const visible = visiblePairs(b, masks, tq, tk);
  const weights =
    visible === null
      ? b.op('softmax', [scores], { causal })
      : b.op('mul', [b.op('softmax', [b.op('add', [scores, b.op('mul', [b.op('sub', [b.constant(1), visible]), b.constant(-1e9)])])], { causal }), visible]);
  const heads = b.op('batch_matmul', [weights, project(value)], { headsB: headsAt(2 * qWidth, vWidth), mergeHeads: true });
  return affine(b, heads, p.outWeight, p.outBias);
}

/** ONNX (opset 17) names of the four parameters' initializers, the biases absent without useBias. */
export interface OnnxAttentionParams {
  readonly inWeight: string;
  readonly inBias?: string | undefined;
  readonly outWeight: string;
  readonly outBias?: string | undefined;
}

/** The same attention as ONNX nodes: MatMul by the transposed weights, heads by Reshape and Transpose, the causal mask as −1e9 added above the diagonal. */
export function onnxMultiHeadAttention(g: OnnxEmitter, query: string, key: string, value: string, p: OnnxAttentionParams, a: AttentionShape, causal: boolean, tq: number, tk: number): string {
  const H = a.numHeads;
  const linear = (x: string, w: string, bias: string | undefined): string => {
    const product = g.node('MatMul', [x, g.node('Transpose', [w], { perm: [1, 0] })]);
    return bias === undefined ? product : g.node('Add', [product, bias]);
  };
  const projected = new Map<string, string>();
  const project = (x: string): string => {
    let all = projected.get(x);
    if (all === undefined) projected.set(x, (all = linear(x, p.inWeight, p.inBias)));
    return all;
  };
  const columns = (x: string, start: number, size: number): string => g.node('Slice', [project(x), g.integers([start]), g.integers([start + size]), g.integers([-1])]);
  const split = (x: string, steps: number, d: number): string => g.node('Transpose', [g.node('Reshape', [x, g.integers([0, steps, H, d])])], { perm: [0, 2, 1, 3] });
  const qWidth = H * a.keyDim;
  const q = split(g.node('Mul', [columns(query, 0, qWidth), g.constant([1 / Math.sqrt(a.keyDim)])]), tq, a.keyDim);
  const k = split(columns(key, qWidth, qWidth), tk, a.keyDim);
  const v = split(columns(value, 2 * qWidth, H * a.valueDim), tk, a.valueDim);
  let scores = g.node('MatMul', [q, g.node('Transpose', [k], { perm: [0, 1, 3, 2] })]);
  if (causal) scores = g.node('Add', [scores, g.constant(Array.from({ length: tq * tk }, (_, i) => (i % tk > Math.floor(i / tk) ? -1e9 : 0)), [tq, tk])]);
  const heads = g.node('MatMul', [g.node('Softmax', [scores], { axis: -1 }), v]);
  const merged = g.node('Reshape', [g.node('Transpose', [heads], { perm: [0, 2, 1, 3] }), g.integers([0, tq, H * a.valueDim])]);
  return linear(merged, p.outWeight, p.outBias);
}
