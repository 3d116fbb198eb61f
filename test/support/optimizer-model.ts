// The small model the optimizer tests train: 3 → 4 tanh → 2 with MSE, one batch of 8 rows, the
// optimizer given by each test (the reference optimizers and the hyperparameter tests share it).
import { randomMatrix } from './data.ts';

export const optimizerModel = (optimizer: object): object => ({
  input: { shape: [3] },
  layers: [
    { type: 'dense', name: 'hidden', units: 4, activation: 'tanh' },
    { type: 'dense', name: 'out', units: 2 },
  ],
  loss: { type: 'mse' },
  optimizer,
  batchSize: 8,
  seed: 21,
});

export const optimizerBatch = { x: randomMatrix(8, 3, 31), y: randomMatrix(8, 2, 32, 2) };
