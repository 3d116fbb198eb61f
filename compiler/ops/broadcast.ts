// Explicit broadcast to a target shape (numpy rules). Its vjp is the identity: the backward
// walker sums the cotangent back to the operand's shape, as it does for every broadcast.
import { broadcastsTo } from '../ir/broadcast.ts';
import { forEachBroadcast, tensor64 } from '../ir/tensor.ts';
import { shapeToString, type Shape } from '../ir/types.ts';
import { ShapeError, type OpDef } from './op.ts';

export interface BroadcastAttrs {
  readonly shape: Shape;
}

export const broadcast: OpDef<BroadcastAttrs> = {
  name: 'broadcast',
  arity: 1,
  shape([x], { shape }) {
    if (!broadcastsTo(x!.shape, shape)) throw new ShapeError(`broadcast: ${shapeToString(x!.shape)} does not broadcast to ${shapeToString(shape)}`);
    return { shape, dtype: x!.dtype };
  },
  eval([x], _attrs, ctx) {
    const target = ctx.node.shape.map((d) => (d === 'N' ? ctx.n : d));
    const out = tensor64(target);
    forEachBroadcast(target, [x!.shape], (i, [o]) => {
      out.data[i] = x!.data[o!]!;
    });
    return out;
  },
  vjp: (_b, { g }) => [g],
  template: { kind: 'elementwise', scalar: (x) => x, simd: (x) => x },
};
