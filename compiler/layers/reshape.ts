// Keras's Reshape: each sample's values seen in another per-sample shape (row-major, channels
// last), e.g. [64] → [8, 8, 1]. One axis may be -1: it takes whatever size the others leave.
import { z } from 'zod';
import { BATCH } from '../ir/types.ts';
import { product } from '../../runtime/tensor.ts';
import { defineLayer, LayerShapeError, type FeatureShape } from './layer.ts';
import { KerasFieldError } from './interop/types.ts';

const targetShape = z
  .array(z.int({ error: 'expected an integer' }).refine((d) => d > 0 || d === -1, { error: 'expected a positive size or -1' }))
  .min(1, { error: 'expected a per-sample shape such as [8, 8, 1]' })
  .max(3, { error: 'per-sample shapes have rank 1 to 3' })
  .refine((s) => s.filter((d) => d === -1).length <= 1, { error: 'at most one axis may be -1' });

/** The target shape with its -1 resolved against `size` values, or a LayerShapeError. */
function resolve(target: readonly number[], input: FeatureShape): FeatureShape {
  const size = product(input);
  const known = product(target.filter((d) => d !== -1));
  const text = `[${target.join(', ')}]`;
  if (target.includes(-1)) {
    if (size % known !== 0) throw new LayerShapeError(`reshape cannot view ${size} values as ${text}: ${size} is not a multiple of ${known}`);
    return target.map((d) => (d === -1 ? size / known : d));
  }
  if (known !== size) throw new LayerShapeError(`reshape cannot view ${size} values as ${text} (${known} values)`);
  return target;
}

export const reshapeLayer = defineLayer({
  type: 'reshape',
  options: { targetShape },
  outputShape: (o, [x]) => resolve(o.targetShape, x!),
  lower: ({ b, options, inputs, inputShapes }) => b.op('reshape', [inputs[0]!], { shape: [BATCH, ...resolve(options.targetShape, inputShapes[0]!)] }),
  describe: (o) => `reshape [${o.targetShape.join(', ')}]`,
  keras: {
    className: 'Reshape',
    fromKeras: {
      Reshape: (c) => {
        const target = c['target_shape'];
        if (!Array.isArray(target) || !target.every((d) => typeof d === 'number')) throw new KerasFieldError('target_shape', `expected a list of sizes, got ${JSON.stringify(target)}`);
        return { targetShape: target };
      },
    },
    toKeras: (o) => ({ target_shape: o.targetShape }),
    weights: () => [],
  },
  torch: { forward: (o, [x]) => `${x}.reshape(${x}.shape[0], ${o.targetShape.join(', ')})` },
  onnx: { lower: (g, o, [x]) => g.node('Reshape', [x!, g.integers([0, ...o.targetShape])]) },
});
