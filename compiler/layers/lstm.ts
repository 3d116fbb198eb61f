// Keras's LSTM, PyTorch's nn.LSTM, unrolled over the compiled steps (recurrent.ts). Gate blocks in
// PyTorch's (and Keras's) order i, f, g, o:
//   i = σ(·), f = σ(·), g = tanh(·), o = σ(·) of x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh
//   c_t = f·c_{t−1} + i·g,  h_t = o·tanh(c_t)
// σ is recurrentActivation (sigmoid), tanh is activation; h and c start at zero.
import { defineLayer } from './layer.ts';
import { recurrentKeras, recurrentOnnx, recurrentTorch } from './interop/recurrent.ts';
import { activate, gatedOptions, plus, recurrentActivationOf, recurrentOutputShape, recurrentParams, unroll, type Cell } from './recurrent.ts';

export const lstmCell: Cell = {
  type: 'lstm',
  gates: 4,
  step: ({ b, options, input, state, recurrent, gate }) => {
    const z = plus(b, input, recurrent);
    const sigma = recurrentActivationOf(options);
    const i = activate(b, gate(z, 0), sigma);
    const f = activate(b, gate(z, 1), sigma);
    const g = activate(b, gate(z, 2), options.activation);
    const o = activate(b, gate(z, 3), sigma);
    const ig = b.op('mul', [i, g]);
    const c = state === null ? ig : b.op('add', [b.op('mul', [f, state[1]!]), ig]);
    return [b.op('mul', [o, activate(b, c, options.activation)]), c];
  },
};

export const lstmLayer = defineLayer({
  type: 'lstm',
  options: gatedOptions,
  outputShape: (o, [x]) => recurrentOutputShape(lstmCell, o, x!),
  params: (o, [x]) => recurrentParams(lstmCell, o, x!),
  mask: 'read',
  keepsMask: (o) => o.returnSequences,
  lower: ({ b, options, inputs, inputShapes, params, mask }) =>
    unroll({ b, cell: lstmCell, options, input: inputs[0]!, inputShape: inputShapes[0]!, params, reverse: options.goBackwards, mask }),
  describe: (o) => `lstm (${o.units})`,
  keras: recurrentKeras(lstmCell, 'LSTM'),
  torch: recurrentTorch(lstmCell),
  onnx: recurrentOnnx(lstmCell),
});
