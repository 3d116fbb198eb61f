// The depthwise convolution both depthwise_conv2d and separable_conv2d compute: each input
// channel c convolved with its own depthMultiplier filters, output channel c·M + m (PyTorch's
// nn.Conv2d(groups = C) order, and Keras's). The kernel is PyTorch's [C·M, 1, kh, kw].
//
// Not a GEMM: the patches [N, OH, OW, C·M·KH·KW] (im2col; with M > 1 of the image whose channels
// are each repeated M times) are multiplied by the kernel read as one [C·M·KH·KW] row and summed
// over each group of KH·KW. All of it is ordinary ops, so its backward pass is too.
import type { GraphBuilder } from '../ir/builder.ts';
import { BATCH, type NodeId } from '../ir/types.ts';
import type { WindowAttrs } from '../ops/im2col.ts';
import { positions } from './conv_window.ts';
import type { FeatureShape } from './layer.ts';

export function depthwise(b: GraphBuilder, x: NodeId, input: FeatureShape, window: WindowAttrs, weight: NodeId, multiplier: number): NodeId {
  const [h, w, channels] = input as [number, number, number];
  const width = channels * multiplier;
  let image = x;
  if (multiplier > 1) {
    const column = b.op('reshape', [x], { shape: [BATCH, h, w, channels, 1] });
    const repeated = b.op('broadcast', [column], { shape: [BATCH, h, w, channels, multiplier] });
    image = b.op('reshape', [repeated], { shape: [BATCH, h, w, width] });
  }
  const field = window.kernel.reduce((a, k) => a * k, 1);
  const [oh, ow] = positions(input, window) as [number, number];
  const patches = b.op('im2col', [image], window);
  const products = b.op('mul', [patches, b.op('reshape', [weight], { shape: [width * field] })]);
  const groups = b.op('reshape', [products], { shape: [BATCH, oh, ow, width, field] });
  return b.op('sum', [groups], { axes: [4] });
}
