// The residual MLP of model.json, written with the functional builder: test/residual-digits.test.ts
// checks that the two are the same spec.
import { dense, input, losses, model, optimizers, residualBlock } from '../../compiler/index.ts';
import type { GraphSpec } from '../../compiler/model/spec.ts';

export function residualDigitsSpec(): GraphSpec {
  const pixels = input([64], { name: 'pixels' });
  let h = dense(64, { name: 'stem', activation: 'relu', kernelInitializer: 'he_normal' }).apply(pixels);
  h = residualBlock(h, 64, { name: 'block1' });
  h = residualBlock(h, 64, { name: 'block2' });
  const digit = dense(10, { name: 'digit', activation: 'softmax' }).apply(h);
  return model({
    name: 'digits_residual',
    inputs: [pixels],
    outputs: [{ tensor: digit, loss: losses.sparseCategoricalCrossentropy() }],
    // Cosine decay to 0 over 30 epochs of 45 steps (1438 rows, batch 32).
    optimizer: optimizers.adamw({ learningRate: 0.003, weightDecay: 0.01, schedule: { type: 'cosine', decaySteps: 1350 } }),
    batchSize: 32,
    seed: 5,
  });
}
