// The ops that start a graph: inputs fed by the caller, parameters held by the trainer, and
// scalar constants. They have no computation and no inputs to differentiate.
import { tensor64 } from '../ir/tensor.ts';
import type { DType, Shape } from '../ir/types.ts';
import type { OpDef } from './op.ts';

export interface SourceAttrs {
  readonly name: string;
  readonly shape: Shape;
  readonly dtype: DType;
  /** State only: the value init() writes to every element (default 0), e.g. a hyperparameter's. */
  readonly initial?: number;
}

function source(name: string): OpDef<SourceAttrs> {
  return {
    name,
    arity: 0,
    shape: (_inputs, attrs) => ({ shape: attrs.shape, dtype: attrs.dtype }),
    eval(_inputs, attrs) {
      throw new Error(`internal: ${name} '${attrs.name}' has no value; the interpreter must bind it`);
    },
    vjp: () => [],
    template: { kind: 'source' },
  };
}

export const input = source('input');
export const param = source('param');
/** Optimizer state, counters and hyperparameters: persistent like parameters, set by init (to 0 or `initial`), never differentiated. */
export const state = source('state');

/** The value init() gives every element of a state node: its `initial`, else 0. */
export function stateInitial(node: { readonly op: string; readonly attrs: unknown }): number {
  if (node.op !== 'state') throw new Error(`internal: ${node.op} node is not state`);
  return (node.attrs as SourceAttrs).initial ?? 0;
}

export const constant: OpDef<{ readonly value: number }> = {
  name: 'constant',
  arity: 0,
  shape: () => ({ shape: [], dtype: 'f32' }),
  eval: (_inputs, attrs) => tensor64([], Float64Array.of(attrs.value)),
  vjp: () => [],
  template: { kind: 'source' },
};
