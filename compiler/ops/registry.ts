// The op table. A missing piece of an op is a type error here, not a run-time surprise.
import { add, div, mul, neg, sub } from './arithmetic.ts';
import { relu, sigmoid, step, tanh } from './activations.ts';
import { bce_logits } from './bce_logits.ts';
import { concat, slice } from './concat.ts';
import { broadcast } from './broadcast.ts';
import { dropout_mask } from './dropout_mask.ts';
import { erf } from './erf.ts';
import { abs, maximum, minimum } from './extrema.ts';
import { inv_count } from './inv_count.ts';
import { gather_label, scatter_label } from './labels.ts';
import { log_softmax } from './log_softmax.ts';
import { matmul } from './matmul.ts';
import { cos, floor, sin, sqrt } from './math.ts';
import type { OpDef } from './op.ts';
import { reshape } from './reshape.ts';
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
  sqrt,
  floor,
  cos,
  sin,
  bce_logits,
  matmul,
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
  softmax_xent_labels_grad,
} as const;

export type OpName = keyof typeof ops;
export type OpAttrs<K extends OpName> = (typeof ops)[K] extends OpDef<infer A> ? A : never;

// eslint-style guard: every entry's key is its op's name.
for (const [key, def] of Object.entries(ops)) {
  if (key !== def.name) throw new Error(`internal: op table key '${key}' holds op '${def.name}'`);
}

export function opDef(name: string): OpDef<Record<string, unknown>> {
  const def = (ops as Record<string, OpDef<never>>)[name];
  if (!def) throw new Error(`internal: unknown op '${name}'`);
  return def as unknown as OpDef<Record<string, unknown>>;
}
