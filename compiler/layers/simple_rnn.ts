// Keras's SimpleRNN, PyTorch's nn.RNN: h_t = activation(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh),
// unrolled over the compiled steps (recurrent.ts). Weights in PyTorch's names and layout.
import { defineLayer } from './layer.ts';
import { recurrentKeras, recurrentOnnx, recurrentTorch } from './interop/recurrent.ts';
import { activate, plus, recurrentOptions, recurrentOutputShape, recurrentParams, unroll, type Cell } from './recurrent.ts';

export const simpleRnnCell: Cell = {
  type: 'simple_rnn',
  gates: 1,
  step: ({ b, options, input, recurrent }) => [activate(b, plus(b, input, recurrent), options.activation)],
};

export const simpleRnnLayer = defineLayer({
  type: 'simple_rnn',
  options: recurrentOptions,
  outputShape: (o, [x]) => recurrentOutputShape(simpleRnnCell, o, x!),
  params: (o, [x]) => recurrentParams(simpleRnnCell, o, x!),
  mask: 'read',
  keepsMask: (o) => o.returnSequences,
  lower: ({ b, options, inputs, inputShapes, params, mask }) =>
    unroll({ b, cell: simpleRnnCell, options, input: inputs[0]!, inputShape: inputShapes[0]!, params, reverse: options.goBackwards, mask }),
  describe: (o) => `simple_rnn (${o.units})`,
  keras: recurrentKeras(simpleRnnCell, 'SimpleRNN'),
  torch: recurrentTorch(simpleRnnCell),
  onnx: recurrentOnnx(simpleRnnCell),
});
