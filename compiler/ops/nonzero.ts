// The padding mask of token ids: 1 where an id is not 0, else 0 (Keras's Embedding(mask_zero=True)
// compute_mask, `ids != 0`), as f32 so later layers multiply by it. Piecewise constant in integer
// ids: no gradient.
import { tensor64 } from '../ir/tensor.ts';
import { shapeToString } from '../ir/types.ts';
import { ShapeError, type OpDef } from './op.ts';

export const nonzero: OpDef = {
  name: 'nonzero',
  arity: 1,
  shape([ids]) {
    if (ids!.dtype !== 'i32') throw new ShapeError(`nonzero: ids must be i32, got ${ids!.dtype} ${shapeToString(ids!.shape)}`);
    return { shape: ids!.shape, dtype: 'f32' };
  },
  eval([ids]) {
    const out = tensor64(ids!.shape);
    for (let i = 0; i < ids!.data.length; i++) out.data[i] = ids!.data[i] === 0 ? 0 : 1;
    return out;
  },
  vjp: () => [null],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, inputs, dim }) =>
      `for (let i = 0; i < ${inputs[0]!.shape.map(dim).join(' * ') || '1'}; i++) store<f32>(${out} + (<usize>i << 2), <f32>(load<i32>(${ins[0]} + (<usize>i << 2)) != 0));`,
  },
};
