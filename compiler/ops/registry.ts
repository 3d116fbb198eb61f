// The op table. A missing piece of an op is a type error here, not a run-time surprise.
import { add, div, mul, neg, sub } from './arithmetic.ts';
import { relu, sigmoid, step, tanh } from './activations.ts';
import { avg_pool, avg_pool_transpose } from './avg_pool.ts';
import { batch_matmul } from './batch_matmul.ts';
import { bce_logits } from './bce_logits.ts';
import { concat, slice } from './concat.ts';
import { broadcast } from './broadcast.ts';
import { dropout_mask } from './dropout_mask.ts';
import { erf } from './erf.ts';
import { gelu, gelu_derivative } from './gelu.ts';
import { abs, maximum, minimum } from './extrema.ts';
import { inv_count } from './inv_count.ts';
import { col2im, im2col } from './im2col.ts';
import { gather_label, scatter_label } from './labels.ts';
import { gather_rows, scatter_rows } from './gather_rows.ts';
import { layer_norm, layer_norm_grad } from './layer_norm.ts';
import { log_softmax } from './log_softmax.ts';
import { matmul } from './matmul.ts';
import { max_pool, max_pool_gather, max_pool_scatter } from './max_pool.ts';
import { nonzero } from './nonzero.ts';
import { cos, floor, sin, sqrt } from './math.ts';
import type { OpDef } from './op.ts';
import { reshape } from './reshape.ts';
import { softmax, softmax_grad } from './softmax.ts';
import { softmax_xent_labels_grad } from './softmax_xent.ts';
import { softplus } from './softplus.ts';
import { constant, input, param, state } from './sources.ts';
import { sum } from './sum.ts';
import { exp, log } from './transcendental.ts';

export const ops = {
  input,
  param,
  state,
  constant,
  add,
  sub,
  mul,
  div,
  neg,
  exp,
  log,
  sigmoid,
  tanh,
  relu,
  step,
  maximum,
  minimum,
  abs,
  softplus,
  erf,
  gelu,
  gelu_derivative,
  sqrt,
  floor,
  cos,
  sin,
  bce_logits,
  matmul,
  batch_matmul,
  softmax,
  softmax_grad,
  im2col,
  col2im,
  sum,
  reshape,
  broadcast,
  concat,
  slice,
  inv_count,
  dropout_mask,
  log_softmax,
  gather_label,
  scatter_label,
  gather_rows,
  scatter_rows,
  nonzero,
  softmax_xent_labels_grad,
  max_pool,
  max_pool_scatter,
  max_pool_gather,
  avg_pool,
  avg_pool_transpose,
  layer_norm,
  layer_norm_grad,
} as const;

export type OpName = keyof typeof ops;
export type OpAttrs<K extends OpName> = (typeof ops)[K] extends OpDef<infer A> ? A : never;
/** The attributes of a node of any op: one of the ops' attribute types. */
export type AnyAttrs = { [K in OpName]: OpAttrs<K> }[OpName];

// eslint-style guard: every entry's key is its op's name.
for (const [key, def] of Object.entries(ops)) {
  if (key !== def.name) throw new Error(`internal: op table key '${key}' holds op '${def.name}'`);
}

/**
 * Substitutes for built-in ops, active only inside substituteOps(). The one extension point of
 * the table: tests use it to plant a deliberately wrong op (a broken vjp) and check that
 * `nabla gradcheck` catches it. It can replace an op's definition, never add a name, so the
 * typed table above stays the whole vocabulary.
 */
const substitutes = new Map<string, OpDef<never>>();

/**
 * Runs `fn` with `defs` in place of the built-in ops of the same names (and arity), then
 * restores the table, also when `fn` throws or its promise rejects. Not re-entrant: calls
 * must not overlap, so run such tests sequentially.
 */
export async function substituteOps<T>(defs: readonly OpDef<never>[], fn: () => T | Promise<T>): Promise<T> {
  if (substitutes.size) throw new Error('internal: substituteOps calls must not overlap');
  for (const def of defs) {
    const builtin = (ops as Record<string, OpDef<never>>)[def.name];
    if (!builtin) throw new Error(`substituteOps: '${def.name}' is not an op of the table; only existing ops can be substituted`);
    if (builtin.arity !== def.arity) throw new Error(`substituteOps: '${def.name}' takes ${builtin.arity} inputs, the substitute ${def.arity}`);
  }
  for (const def of defs) substitutes.set(def.name, def);
  try {
    return await fn();
  } finally {
    substitutes.clear();
  }
}

/**
 * The definition of op `name`, for a node of that op. Its attributes are the node's own (a node
 * is made by GraphBuilder.op from its op's attribute type), so the definition may take any op's.
 */
export function opDef(name: OpName): OpDef<AnyAttrs> {
  return (substitutes.get(name) ?? ops[name]) as OpDef<AnyAttrs>;
}
