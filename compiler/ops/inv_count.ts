// 1 / (number of elements of x), with the batch bound at run time: what turns a sum into the
// mean over the n rows actually given, so a partial last batch is averaged correctly.
import { tensor64 } from '../ir/tensor.ts';
import type { OpDef } from './op.ts';

export const inv_count: OpDef = {
  name: 'inv_count',
  arity: 1,
  shape: () => ({ shape: [], dtype: 'f32' }),
  eval: ([x]) => tensor64([], Float64Array.of(1 / x!.data.length)),
  vjp: () => [null],
  template: {
    kind: 'kernel',
    emit: ({ out, inputs, dim }) => `store<f32>(${out}, <f32>1 / <f32>(${inputs[0]!.shape.map(dim).join(' * ') || '1'}));`,
  },
};
