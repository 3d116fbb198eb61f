// Keras's Multiply: the elementwise product of inputs of one shape (gates).
import { commonShape, defineLayer, TWO_OR_MORE } from './layer.ts';

export const multiplyLayer = defineLayer({
  type: 'multiply',
  mask: 'pass',
  options: {},
  arity: TWO_OR_MORE,
  outputShape: (_o, inputs) => commonShape('multiply', inputs),
  lower: ({ b, inputs }) => inputs.slice(1).reduce((acc, x) => b.op('mul', [acc, x]), inputs[0]!),
  keras: { className: 'Multiply', fromKeras: { Multiply: () => ({}) }, toKeras: () => ({}), weights: () => [] },
  torch: { forward: (_o, inputs) => inputs.join(' * ') },
  onnx: { lower: (g, _o, inputs) => inputs.slice(1).reduce((acc, x) => g.node('Mul', [acc, x]), inputs[0]!) },
});
