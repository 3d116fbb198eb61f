// Keras's GRU, PyTorch's nn.GRU, unrolled over the compiled steps (recurrent.ts). Gate blocks in
// PyTorch's order r, z, n (Keras's kernel holds z, r, h: the interop reorders them):
//   r = σ(x_r + h·W_hrᵀ + b_hr),  z = σ(x_z + h·W_hzᵀ + b_hz)
//   resetAfter (default, PyTorch's form):  n = tanh(x_n + r·(h·W_hnᵀ + b_hn))
//   otherwise (Keras's original form):     n = tanh(x_n + (r·h)·W_hnᵀ + b_hn)
//   h_t = (1 − z)·n + z·h_{t−1} = n + z·(h_{t−1} − n)
// where x_· = x_t·W_i·ᵀ + b_i·, σ is recurrentActivation (sigmoid), tanh is activation; h starts at zero.
import { z } from 'zod';
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';
import { defineLayer } from './layer.ts';
import { recurrentKeras, recurrentOnnx, recurrentTorch } from './interop/recurrent.ts';
import { activate, gatedOptions, matrixRows, plus, recurrentActivationOf, recurrentOutputShape, recurrentParams, unroll, type Cell, type RecurrentOptions } from './recurrent.ts';

export interface GruOptions extends RecurrentOptions {
  readonly resetAfter: boolean;
}

export const gruOptions = {
  ...gatedOptions,
  /** The reset gate applied after the recurrent product (Keras's default and PyTorch's form). */
  resetAfter: z.boolean().default(true),
};

export const gruCell: Cell = {
  type: 'gru',
  gates: 3,
  step: ({ b, options, input, state, recurrent, weightHh, biasHh, gate }) => {
    const sigma = recurrentActivationOf(options);
    const part = (x: NodeIdOrNull, k: number): NodeIdOrNull => (x === null ? null : gate(x, k));
    const r = activate(b, plus(b, gate(input, 0), part(recurrent, 0)), sigma);
    const zGate = activate(b, plus(b, gate(input, 1), part(recurrent, 1)), sigma);
    let candidate: NodeIdOrNull;
    if ((options as GruOptions).resetAfter) {
      const hn = part(recurrent, 2);
      candidate = hn === null ? null : b.op('mul', [r, hn]);
    } else {
      // (r·h)·W_hnᵀ + b_hn: W_hn is the last block of W_hh's rows; at the first step r·h = 0.
      const product = state === null ? null : b.op('matmul', [b.op('mul', [r, state[0]!]), matrixRows(b, weightHh, 2 * options.units, options.units)], { transB: true });
      candidate = plus0(b, product, biasHh === null ? null : gate(biasHh, 2));
    }
    const n = activate(b, plus(b, gate(input, 2), candidate), options.activation);
    const h = state === null ? b.op('sub', [n, b.op('mul', [zGate, n])]) : b.op('add', [n, b.op('mul', [zGate, b.op('sub', [state[0]!, n])])]);
    return [h];
  },
};

type NodeIdOrNull = NodeId | null;

/** x + y where either may be missing (a zero). */
function plus0(b: GraphBuilder, x: NodeIdOrNull, y: NodeIdOrNull): NodeIdOrNull {
  if (x === null) return y;
  return plus(b, x, y);
}

export const gruLayer = defineLayer({
  type: 'gru',
  options: gruOptions,
  outputShape: (o, [x]) => recurrentOutputShape(gruCell, o, x!),
  params: (o, [x]) => recurrentParams(gruCell, o, x!),
  mask: 'read',
  keepsMask: (o) => o.returnSequences,
  lower: ({ b, options, inputs, inputShapes, params, mask }) =>
    unroll({ b, cell: gruCell, options, input: inputs[0]!, inputShape: inputShapes[0]!, params, reverse: options.goBackwards, mask }),
  describe: (o) => `gru (${o.units}${o.resetAfter ? '' : ', reset before'})`,
  keras: recurrentKeras(gruCell, 'GRU'),
  torch: recurrentTorch(gruCell),
  onnx: recurrentOnnx(gruCell),
});
