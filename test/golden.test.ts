// Every stage prints to stable text; these goldens make a change to the seed model's training
// graph, memory plan or generated AssemblyScript show up as a readable diff.
import { describe, expect, it } from 'vitest';
import { compileToWasm } from '../compiler/compile.ts';
import { printGraph } from '../compiler/ir/print.ts';
import { printPlan } from '../compiler/codegen/plan.ts';

const seed = {
  name: 'seed',
  input: { name: 'x', shape: [2] },
  layers: [
    { type: 'dense', name: 'hidden', units: 2, activation: 'sigmoid' },
    { type: 'dense', name: 'out', units: 1, activation: 'sigmoid' },
  ],
  loss: { type: 'mse', weight: 0.5 },
  optimizer: { type: 'sgd', learningRate: 0.1 },
  batchSize: 1,
  seed: 42,
};

describe('golden text of the seed model', () => {
  it('training graph, memory plan, AssemblyScript', async () => {
    const compiled = await compileToWasm(seed);
    await expect(printGraph(compiled.graph)).toMatchFileSnapshot('golden/seed.graph.txt');
    await expect(printPlan(compiled.graph, compiled.plan)).toMatchFileSnapshot('golden/seed.plan.txt');
    await expect(compiled.source).toMatchFileSnapshot('golden/seed.model.ts.txt');
  });
});
