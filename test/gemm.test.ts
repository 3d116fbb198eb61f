// The packed GEMM kernels against the float64 interpreter on shapes that exercise every path:
// full 4×8 blocks, the 2/1 row tails, panels narrower than 8 (packed and in place), a batch
// dimension that is the GEMM's K (weight gradient), and partial batches down to one row.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { relativeDifference } from '../compiler/gradcheck/numerical.ts';
import { randomClasses, randomMatrix } from './support/data.ts';

const spec = {
  input: { shape: [19] },
  layers: [
    { type: 'dense', units: 29, activation: 'relu' },
    { type: 'dense', units: 16, activation: 'tanh' },
    { type: 'dense', units: 13, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  batchSize: 23,
  seed: 5,
};

describe('packed GEMM kernels', () => {
  it.each([23, 18, 11, 7, 1])('gradients agree with the interpreter on %i rows', async (n) => {
    const trainer = await compile(spec);
    const interpreter = interpret(spec);
    interpreter.setWeights(trainer.getWeights());
    const x = randomMatrix(n, 19, 40 + n, 1.2);
    const y = randomClasses(n, 13, 50 + n);
    const exact = interpreter.gradients(x, y);
    const compiled = trainer.gradients(x, y);
    expect(Math.abs(compiled.loss - exact.loss) / Math.abs(exact.loss)).toBeLessThan(1e-5);
    expect(relativeDifference(trainer.predict(x).data, interpreter.predict(x).data)).toBeLessThan(1e-5);
    for (const [name, g] of Object.entries(exact.grads)) {
      expect(relativeDifference(compiled.grads[name]!.data, g.data), name).toBeLessThan(1e-5);
    }
  });
});
