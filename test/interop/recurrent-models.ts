// Small recurrent models for the PyTorch and ONNX export tests: stacked lstm, gru and simple_rnn
// reading forwards and backwards, the final state of a gru, bidirectional layers (a sequence and
// the last steps) and a repeat_vector decoder.

/** lstm → gru (backwards) → simple_rnn over [5, 3]. */
export const recurrentStack = {
  name: 'recurrent_stack',
  input: { shape: [5, 3] },
  layers: [
    { type: 'lstm', units: 4, returnSequences: true }, // → [5, 4]
    { type: 'gru', units: 3, returnSequences: true, goBackwards: true }, // → [5, 3], in reading order
    { type: 'simple_rnn', units: 3 }, // → [3]
    { type: 'dense', units: 2 },
  ],
  loss: { type: 'mse' },
  optimizer: { type: 'adam', learningRate: 0.01 },
};

/** Bidirectional layers, a gru's final state and a repeat_vector decoder over [4, 2]. */
export const bidirectionalGraph = {
  name: 'bidirectional_graph',
  inputs: [{ name: 'x', shape: [4, 2] }],
  nodes: [
    { type: 'bidirectional', name: 'bi_seq', layer: { type: 'lstm', units: 3, returnSequences: true }, inputs: ['x'] }, // → [4, 6]
    { type: 'flatten', name: 'bi_flat', inputs: ['bi_seq'] },
    { type: 'bidirectional', name: 'bi_last', layer: { type: 'gru', units: 2, useBias: false }, inputs: ['x'] }, // → [4]
    { type: 'repeat_vector', name: 'repeat', n: 3, inputs: ['bi_last'] }, // → [3, 4]
    { type: 'lstm', name: 'decoder', units: 2, inputs: ['repeat'] }, // → [2]
    { type: 'gru', name: 'state', units: 3, returnState: true, inputs: ['x'] }, // → [3]
    { type: 'concatenate', name: 'joined', inputs: ['bi_flat', 'decoder', 'state'] },
    { type: 'dense', name: 'out', units: 2, activation: 'sigmoid', inputs: ['joined'] },
  ],
  outputs: [{ node: 'out', loss: { type: 'binary_crossentropy' } }],
  optimizer: { type: 'sgd', learningRate: 0.1, momentum: 0.9 },
};

export const recurrentModels: readonly [string, unknown][] = [
  ['lstm → gru (backwards) → simple_rnn', recurrentStack],
  ['bidirectional lstm and gru, a gru state, a repeat_vector decoder', bidirectionalGraph],
];
