// Keras's Concatenate: inputs joined along the last axis (the features); their other axes agree.
import { batchedText, defineLayer, LayerShapeError, TWO_OR_MORE } from './layer.ts';
import { lastAxis } from './interop/keras.ts';

export const concatenateLayer = defineLayer({
  type: 'concatenate',
  mask: 'pass',
  options: {},
  arity: TWO_OR_MORE,
  outputShape: (_o, inputs) => {
    const leading = inputs[0]!.slice(0, -1);
    if (!inputs.every((s) => s.length === leading.length + 1 && s.slice(0, -1).every((d, i) => d === leading[i]))) {
      throw new LayerShapeError(`concatenate joins inputs along the last axis, their other axes equal; got ${inputs.map(batchedText).join(', ')}`);
    }
    return [...leading, inputs.reduce((a, s) => a + s.at(-1)!, 0)];
  },
  lower: ({ b, inputs }) => inputs.slice(1).reduce((acc, x) => b.op('concat', [acc, x]), inputs[0]!),
  keras: {
    className: 'Concatenate',
    fromKeras: {
      Concatenate: (c) => {
        lastAxis(c);
        return {};
      },
    },
    toKeras: () => ({ axis: -1 }),
    weights: () => [],
  },
  torch: { forward: (_o, inputs) => `torch.cat([${inputs.join(', ')}], dim=-1)` },
  onnx: { lower: (g, _o, inputs) => g.node('Concat', inputs, { axis: -1 }) },
});
