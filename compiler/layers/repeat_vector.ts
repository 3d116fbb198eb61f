// Keras's RepeatVector: a row of features repeated n times, [features] → [n, features]; feeds the
// encoder's summary to every step of a recurrent decoder.
import { BATCH } from '../ir/types.ts';
import { positiveInt } from './fields.ts';
import { field } from './interop/keras.ts';
import { defineLayer, featureRows } from './layer.ts';

export const repeatVectorLayer = defineLayer({
  type: 'repeat_vector',
  options: { n: positiveInt },
  outputShape: (o, [x]) => [o.n, featureRows('repeat_vector', x!)[0]!],
  lower: ({ b, options, inputs, inputShapes }) => {
    const width = inputShapes[0]![0]!;
    const row = b.op('reshape', [inputs[0]!], { shape: [BATCH, 1, width] });
    return b.op('broadcast', [row], { shape: [BATCH, options.n, width] });
  },
  describe: (o) => `repeat_vector (×${o.n})`,
  keras: {
    className: 'RepeatVector',
    fromKeras: { RepeatVector: (c) => ({ n: field(c, 'n', 'number') }) },
    toKeras: (o) => ({ n: o.n }),
    weights: () => [],
  },
  torch: { forward: (o, [x]) => `${x}.unsqueeze(1).expand(-1, ${o.n}, -1)` },
  onnx: {
    lower: (g, o, [x], _params, [shape]) => g.node('Expand', [g.node('Unsqueeze', [x!, g.integers([1])]), g.integers([1, o.n, shape![0]!])]),
  },
});
