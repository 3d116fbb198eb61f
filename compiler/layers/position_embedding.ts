// A learned position embedding (keras_hub's PositionEmbedding): a [sequenceLength, features] table
// whose first `steps` rows are added to a sequence [steps, features], so each position gets its
// own learned vector. `sequenceLength` defaults to the input's steps; a longer table is read from
// its first rows. The table is `<layer>.weight`.
import { Initializer } from '../init/initializers.ts';
import { positiveInt } from './fields.ts';
import { defineLayer, LayerShapeError, type FeatureShape } from './layer.ts';

function sequence(shape: FeatureShape, sequenceLength: number | undefined): [steps: number, features: number, table: number] {
  if (shape.length !== 2) throw new LayerShapeError(`position_embedding takes sequences [steps, features], got a rank-${shape.length} input`);
  const [steps, features] = shape as [number, number];
  const table = sequenceLength ?? steps;
  if (table < steps) throw new LayerShapeError(`position_embedding: sequenceLength ${table} is shorter than the input's ${steps} steps`);
  return [steps, features, table];
}

export const positionEmbeddingLayer = defineLayer({
  type: 'position_embedding',
  mask: 'pass',
  options: {
    sequenceLength: positiveInt.optional(),
    initializer: Initializer.default({ type: 'glorot_uniform' }),
  },
  outputShape: (o, [x]) => {
    sequence(x!, o.sequenceLength);
    return x!;
  },
  params: (o, [x]) => {
    const [, features, table] = sequence(x!, o.sequenceLength);
    return [{ suffix: 'weight', shape: [table, features], init: o.initializer }];
  },
  lower: ({ b, options: o, inputs, inputShapes, params }) => {
    const [steps, features, table] = sequence(inputShapes[0]!, o.sequenceLength);
    let rows = params['weight']!;
    if (table > steps) rows = b.op('reshape', [b.op('slice', [b.op('reshape', [rows], { shape: [table * features] })], { start: 0, size: steps * features })], { shape: [steps, features] });
    return b.op('add', [inputs[0]!, b.op('reshape', [rows], { shape: [1, steps, features] })]);
  },
  describe: (o) => `position_embedding${o.sequenceLength ? ` (${o.sequenceLength})` : ''}`,
  torch: {
    module: (o, [x]) => `PositionEmbedding(${o.sequenceLength ?? x![0]}, ${x![1]})`,
    forward: (_o, [x], self) => `${self}(${x})`,
  },
  onnx: {
    lower: (g, _o, [x], params, [shape]) => {
      const steps = shape![0]!;
      const rows = g.node('Slice', [params['weight']!, g.integers([0]), g.integers([steps]), g.integers([0])]);
      return g.node('Add', [x!, rows]);
    },
  },
});
