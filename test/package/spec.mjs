// The model every consumer compiles (job.mjs); the test compiles it from the sources too.
export const SPEC = {
  name: 'consumer',
  input: { shape: [4] },
  layers: [
    { type: 'dense', name: 'hidden', units: 8, activation: 'tanh' },
    { type: 'dense', name: 'out', units: 3, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  optimizer: { type: 'sgd', learningRate: 0.2 },
  batchSize: 8,
  seed: 5,
};
