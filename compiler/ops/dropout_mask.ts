// The inverted-dropout mask of one training step: 1/(1 − rate) where a uniform draw u ≥ rate,
// else 0, for the n·C elements of [N, C] in row-major order. The draws come from nabla's one PRNG
// seeded by (seed, stream + t), t the step counter (its input), so every step has a new mask and
// the interpreter and the trainer (assembly/dropout.ts) draw the same one. No gradient flows
// into the step counter.
import { Rng } from '../../runtime/prng.ts';
import { tensor64 } from '../ir/tensor.ts';
import { shapeToString, type Shape } from '../ir/types.ts';
import { ShapeError, type OpDef } from './op.ts';

export interface DropoutMaskAttrs {
  readonly rate: number;
  readonly seed: number;
  /** The layer's stream base; step t draws from stream (base + t) mod 2³². */
  readonly stream: number;
  readonly shape: Shape;
}

export const dropout_mask: OpDef<DropoutMaskAttrs> = {
  name: 'dropout_mask',
  arity: 1,
  shape([step], { shape, rate }) {
    if (step!.shape.length !== 0) throw new ShapeError(`dropout_mask: the step counter must be a scalar, got ${shapeToString(step!.shape)}`);
    if (!(rate >= 0 && rate < 1)) throw new ShapeError(`dropout_mask: rate ${rate} is not in [0, 1)`);
    return { shape, dtype: 'f32' };
  },
  eval([step], { rate, seed, stream }, ctx) {
    const out = tensor64(ctx.node.shape.map((d) => (d === 'N' ? ctx.n : d)));
    const rng = new Rng(seed, (stream + step!.data[0]!) >>> 0);
    const keep = Math.fround(1 / (1 - rate));
    for (let i = 0; i < out.data.length; i++) out.data[i] = rng.uniform() >= rate ? keep : 0;
    return out;
  },
  vjp: () => [null],
  template: {
    kind: 'kernel',
    emit: ({ out, ins, node, attrs, dim }) =>
      `dropout_mask(${out}, ${ins[0]}, ${node.shape.map(dim).join(' * ')}, ${String(attrs.rate)}, ${attrs.seed >>> 0}, ${attrs.stream >>> 0});`,
  },
};
