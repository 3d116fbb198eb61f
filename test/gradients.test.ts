// Acceptance: gradients agree three ways on small models covering every op — interpreter vs
// centered differences (float64, ≤ 1e-7) and compiled vs interpreter (float32, ≤ 1e-5), on a
// full and a partial batch.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { relativeDifference } from '../compiler/gradcheck/numerical.ts';
import { randomMatrix } from './support/data.ts';
import { SMALL_MODELS } from './support/models.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';

describe.each(SMALL_MODELS)('$name', ({ spec, labels }) => {
  const B = spec.batchSize!;
  const features = spec.input.shape[0]!;

  it.each([
    ['full batch', B],
    ['partial batch', B - 3],
  ])('agrees three ways on a %s', async (_label, n) => {
    await expectThreeWayAgreement(spec, randomMatrix(n, features, 10 + n, 1.5), labels(n, 20 + n));
  });

  it('takes the same SGD step compiled and interpreted', async () => {
    const trainer = await compile(spec);
    const interpreter = interpret(spec);
    interpreter.setWeights(trainer.getWeights());
    const x = randomMatrix(B, features, 77, 1);
    const y = labels(B, 78);
    const lossCompiled = trainer.trainStep(x, y);
    const lossInterpreted = interpreter.trainStep(x, y);
    expect(lossCompiled).toBeCloseTo(lossInterpreted, 5);
    const after = interpreter.getWeights();
    for (const [name, t] of Object.entries(trainer.getWeights())) {
      expect(relativeDifference(t.data, after[name]!.data), name).toBeLessThan(1e-6);
    }
  });
});
