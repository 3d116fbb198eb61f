// The ops that start a graph: inputs fed by the caller, parameters held by the trainer, and
// scalar constants. They have no computation and no inputs to differentiate.
import { tensor64 } from '../ir/tensor.ts';
import type { DType, Shape } from '../ir/types.ts';
import type { OpDef } from './op.ts';

export interface SourceAttrs {
  readonly name: string;
  readonly shape: Shape;
  readonly dtype: DType;
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
/** Optimizer state and counters: persistent like parameters, zeroed by init, never differentiated. */
export const state = source('state');

export const constant: OpDef<{ readonly value: number }> = {
  name: 'constant',
  arity: 0,
  shape: () => ({ shape: [], dtype: 'f32' }),
  eval: (_inputs, attrs) => tensor64([], Float64Array.of(attrs.value)),
  vjp: () => [],
  template: { kind: 'source' },
};
