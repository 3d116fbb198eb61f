// Keras's Add: the elementwise sum of inputs of one shape (residual connections).
import { commonShape, defineLayer, TWO_OR_MORE } from './layer.ts';

export const addLayer = defineLayer({
  type: 'add',
  mask: 'pass',
  options: {},
  arity: TWO_OR_MORE,
  outputShape: (_o, inputs) => commonShape('add', inputs),
  lower: ({ b, inputs }) => inputs.slice(1).reduce((acc, x) => b.op('add', [acc, x]), inputs[0]!),
  keras: { className: 'Add', fromKeras: { Add: () => ({}) }, toKeras: () => ({}), weights: () => [] },
  torch: { forward: (_o, inputs) => inputs.join(' + ') },
  onnx: { lower: (g, _o, inputs) => inputs.slice(1).reduce((acc, x) => g.node('Add', [acc, x]), inputs[0]!) },
});
