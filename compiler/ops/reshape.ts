// Same elements, another shape. The batch dimension must stay a dimension of its own.
import { tensor64 } from '../ir/tensor.ts';
import { BATCH, shapeToString, type Shape } from '../ir/types.ts';
import { ShapeError, type OpDef } from './op.ts';

export interface ReshapeAttrs {
  readonly shape: Shape;
}

function staticSize(shape: Shape): [number, number] {
  let size = 1;
  let batches = 0;
  for (const d of shape) {
    if (d === BATCH) batches++;
    else size *= d;
  }
  return [size, batches];
}

export const reshape: OpDef<ReshapeAttrs> = {
  name: 'reshape',
  arity: 1,
  shape([x], { shape }) {
    const [a, an] = staticSize(x!.shape);
    const [b, bn] = staticSize(shape);
    if (a !== b || an !== bn) throw new ShapeError(`reshape: cannot view ${shapeToString(x!.shape)} as ${shapeToString(shape)}`);
    return { shape, dtype: x!.dtype };
  },
  eval([x], _attrs, ctx) {
    return tensor64(
      ctx.node.shape.map((d) => (d === BATCH ? ctx.n : d)),
      x!.data.slice(),
    );
  },
  vjp: (b, { g, inputs: [x] }) => [b.op('reshape', [g], { shape: b.node(x!).shape })],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, node, dim }) => `memory.copy(${out}, ${ins[0]}, <usize>(${node.shape.map(dim).join(' * ') || '1'}) << 2);`,
  },
};
