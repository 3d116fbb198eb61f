// Keras's Bidirectional (merge mode concat), PyTorch's bidirectional=True: the wrapped recurrent
// layer reads the sequence forwards and a copy with its own weights (PyTorch's `_reverse`
// parameters) reads it backwards; their outputs are joined on the last axis, forward first. With
// returnSequences the backward outputs are re-aligned with the input's steps, as both frameworks
// do; without it each direction gives its last step's h (for the backward one, the h after reading
// step 0), as Keras does. A mask reaches both directions; returning sequences, a masked step's
// outputs are zeros in both (Keras's Bidirectional sets zero_output_for_mask then).
import { z } from 'zod';
import { defineLayer, LayerShapeError } from './layer.ts';
import { bidirectionalKeras, bidirectionalOnnx, bidirectionalTorch } from './interop/recurrent.ts';
import { gruCell, gruOptions } from './gru.ts';
import { lstmCell } from './lstm.ts';
import { gatedOptions, recurrentOptions, recurrentOutputShape, recurrentParams, unroll, type Cell, type RecurrentOptions } from './recurrent.ts';
import { simpleRnnCell } from './simple_rnn.ts';

const cells: Readonly<Record<string, Cell>> = { simple_rnn: simpleRnnCell, lstm: lstmCell, gru: gruCell };

/** The wrapped layer: a recurrent layer's type and options (no name: its parameters are the wrapper's). */
export const WrappedRecurrent = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('simple_rnn'), ...recurrentOptions }),
    z.strictObject({ type: z.literal('lstm'), ...gatedOptions }),
    z.strictObject({ type: z.literal('gru'), ...gruOptions }),
  ],
  { error: 'expected a recurrent layer { "type": "simple_rnn" | "lstm" | "gru", "units": ..., ... }' },
);

const cellOf = (layer: { readonly type: string }): Cell => cells[layer.type]!;

export const bidirectionalLayer = defineLayer({
  type: 'bidirectional',
  options: {
    layer: WrappedRecurrent,
    mergeMode: z.literal('concat', { error: "mergeMode: only 'concat' is supported" }).default('concat'),
  },
  outputShape: ({ layer }, [x]) => {
    if (layer.returnState) throw new LayerShapeError('bidirectional: the wrapped layer cannot set returnState (its states would be several tensors)');
    const one = recurrentOutputShape(cellOf(layer), layer, x!);
    return [...one.slice(0, -1), 2 * one.at(-1)!];
  },
  params: ({ layer }, [x]) => [...recurrentParams(cellOf(layer), layer, x!), ...recurrentParams(cellOf(layer), layer, x!, '_reverse')],
  mask: 'read',
  keepsMask: ({ layer }) => layer.returnSequences,
  lower: ({ b, options: { layer }, inputs, inputShapes, params, mask }) => {
    const common = { b, cell: cellOf(layer), options: layer as RecurrentOptions, input: inputs[0]!, inputShape: inputShapes[0]!, params, mask, zeroMaskedOutputs: layer.returnSequences };
    const forward = unroll({ ...common, reverse: layer.goBackwards });
    const backward = unroll({ ...common, suffix: '_reverse', reverse: !layer.goBackwards, reverseOutput: true });
    return b.op('concat', [forward, backward]);
  },
  describe: ({ layer }) => `bidirectional ${layer.type} (2×${layer.units})`,
  keras: bidirectionalKeras([simpleRnnCell, lstmCell, gruCell]),
  torch: bidirectionalTorch((o) => cellOf(o.layer)),
  onnx: bidirectionalOnnx((o) => cellOf(o.layer)),
});
