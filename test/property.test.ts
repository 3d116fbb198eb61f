// Acceptance 2: random valid sequential models — depth, widths, hidden activations with their
// options, dropout, layer and batch normalization (checked in training mode), the last activation and a loss that fits it, the reduction, bias or not — checked
// three ways like test/gradients.test.ts: interpreter vs centered differences (≤ 1e-7),
// compiled vs interpreter (≤ 1e-5), on a full or partial batch. Fixed seed; about 20 compiles.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { ActivationSpec } from '../compiler/model/activations.ts';
import { activation, add, batchNormalization, concatenate, dense, input, losses, model as fcModel, multiply, type ModelOutput, type SymbolicTensor } from '../compiler/model/builder.ts';
import { oneHot, randomBits, randomClasses, randomMatrix } from './support/data.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';

const hiddenActivation: fc.Arbitrary<ActivationSpec> = fc.oneof(
  fc.constantFrom<ActivationSpec>('linear', 'sigmoid', 'tanh', 'relu', 'elu', 'selu', 'gelu', 'swish', 'silu', 'softplus', 'leaky_relu'),
  fc.record({ type: fc.constant('leaky_relu' as const), alpha: fc.constantFrom(0.05, 0.3, 2) }),
  fc.record({ type: fc.constant('elu' as const), alpha: fc.constantFrom(0.5, 1.5) }),
  fc.record({ type: fc.constant('gelu' as const), approximate: fc.boolean() }),
  fc.record({ type: fc.constant('swish' as const), beta: fc.constantFrom(0.5, 2) }),
);

/** A loss with a last activation it fits, and how to make its labels for `units` outputs. */
interface Head {
  readonly loss: Record<string, unknown>;
  readonly activation: ActivationSpec;
  readonly labels: (rows: number, units: number, seed: number) => number[] | number[][];
}
const regression = (rows: number, units: number, seed: number): number[][] => randomMatrix(rows, units, seed, 1.5);
const bits = (rows: number, units: number, seed: number): number[][] => randomBits(rows, units, seed);
const classes = (rows: number, units: number, seed: number): number[] => randomClasses(rows, units, seed);
const onehot = (rows: number, units: number, seed: number): number[][] => oneHot(randomClasses(rows, units, seed), units);

const head: fc.Arbitrary<Head> = fc.oneof(
  fc.record({ loss: fc.constantFrom({ type: 'mse' }, { type: 'mae' }, { type: 'huber', delta: 0.7 }), activation: fc.constantFrom<ActivationSpec>('linear', 'tanh', 'softplus'), labels: fc.constant(regression) }),
  fc.record({ loss: fc.constant({ type: 'binary_crossentropy' }), activation: fc.constantFrom<ActivationSpec>('sigmoid', 'softmax'), labels: fc.constant(bits) }),
  fc.record({ loss: fc.constant({ type: 'binary_crossentropy', fromLogits: true }), activation: fc.constant<ActivationSpec>('linear'), labels: fc.constant(bits) }),
  fc.record({ loss: fc.constant({ type: 'categorical_crossentropy' }), activation: fc.constantFrom<ActivationSpec>('softmax', 'sigmoid'), labels: fc.constant(onehot) }),
  fc.record({ loss: fc.constant({ type: 'categorical_crossentropy', fromLogits: true }), activation: fc.constant<ActivationSpec>('linear'), labels: fc.constant(onehot) }),
  fc.record({ loss: fc.constant({ type: 'sparse_categorical_crossentropy' }), activation: fc.constant<ActivationSpec>('softmax'), labels: fc.constant(classes) }),
  fc.record({ loss: fc.constant({ type: 'sparse_categorical_crossentropy', fromLogits: true }), activation: fc.constant<ActivationSpec>('linear'), labels: fc.constant(classes) }),
);

const model = fc.record({
  // ≥ 2 features: batch norm right after a dense layer of one input is scale-invariant in its
  // weights, so their gradient is ~0 (only ε breaks the invariance) and below float precision.
  features: fc.integer({ min: 2, max: 5 }),
  hidden: fc.array(
    fc.oneof(
      { weight: 1, arbitrary: fc.record({ type: fc.constant('dropout'), rate: fc.constantFrom(0.1, 0.5) }) },
      { weight: 4, arbitrary: fc.record({ type: fc.constant('dense'), units: fc.integer({ min: 1, max: 6 }), activation: hiddenActivation, useBias: fc.boolean() }) },
      // Normalising fewer than 3 values is degenerate (2 normalise to ±1, flat): float32 cannot
      // resolve its vanishing gradient, so a normalization always follows a dense of ≥ 3 units here.
      {
        weight: 1,
        arbitrary: fc.tuple(
          fc.record({ type: fc.constant('dense'), units: fc.integer({ min: 3, max: 6 }), activation: hiddenActivation, useBias: fc.boolean() }),
          fc.oneof(
            fc.record({ type: fc.constant('layer_normalization'), center: fc.boolean(), scale: fc.boolean() }),
            fc.record({ type: fc.constant('batch_normalization'), center: fc.boolean(), scale: fc.boolean() }),
          ),
        ),
      },
    ),
    { minLength: 0, maxLength: 3 },
  ),
  units: fc.integer({ min: 2, max: 4 }),
  head,
  reduction: fc.constantFrom('mean', 'sum'),
  // ≥ 3 rows even when partial: batch normalization over 2 rows is degenerate in the same way.
  batchSize: fc.integer({ min: 4, max: 9 }),
  partial: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1000 }),
});

describe('random sequential models', () => {
  it('agree three ways (fast-check, fixed seed)', async () => {
    await fc.assert(
      fc.asyncProperty(model, async (m) => {
        const spec = {
          input: { shape: [m.features] },
          layers: [
            ...m.hidden.flat(),
            { type: 'dense', units: m.units, activation: m.head.activation },
          ],
          loss: { ...m.head.loss, reduction: m.reduction },
          batchSize: m.batchSize,
          seed: m.seed,
        };
        const n = m.partial ? Math.max(1, m.batchSize - 1) : m.batchSize;
        const x = randomMatrix(n, m.features, m.seed + 1, 1.5);
        const y = m.head.labels(n, m.units, m.seed + 2);
        // Perturbed initial weights: zero-initialised biases would sit exactly on activation kinks.
        // A random model may have a legitimately zero gradient (a dead unit): not required non-zero.
        await expectThreeWayAgreement(spec, x, y, { training: true, perturbSeed: m.seed + 100, nonZero: false });
      }),
      { seed: 20261123, numRuns: 20 },
    );
  });
});

// The same three-way check on random graph-form models, built with the functional builder:
// residual adds (with batch normalization inside where the width allows), concatenations, gated
// products, shared layers applied twice, sometimes a second input joined in, loss weights, and
// sometimes a second (regression) output on the trunk.
const block = fc.oneof(
  fc.record({ kind: fc.constant('residual' as const), activation: hiddenActivation, norm: fc.boolean() }),
  fc.record({ kind: fc.constant('concatenate' as const), units: fc.integer({ min: 1, max: 4 }), activation: hiddenActivation }),
  fc.record({ kind: fc.constant('multiply' as const), units: fc.integer({ min: 2, max: 4 }) }),
  fc.record({ kind: fc.constant('shared' as const), units: fc.integer({ min: 2, max: 4 }), activation: hiddenActivation, join: fc.constantFrom('add' as const, 'concatenate' as const) }),
);

const graphModel = fc.record({
  features: fc.integer({ min: 2, max: 5 }),
  second: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  blocks: fc.array(block, { minLength: 1, maxLength: 3 }),
  units: fc.integer({ min: 2, max: 4 }),
  head,
  lossWeight: fc.constantFrom(1, 0.4, 2.5),
  // A second output on an earlier tensor, with its own loss and weight.
  auxiliary: fc.option(fc.record({ units: fc.integer({ min: 1, max: 3 }), lossWeight: fc.constantFrom(0.3, 1, 1.7) }), { nil: undefined }),
  reduction: fc.constantFrom('mean', 'sum'),
  batchSize: fc.integer({ min: 4, max: 9 }),
  partial: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1000 }),
});

describe('random graph models', () => {
  it('agree three ways (fast-check, fixed seed)', async () => {
    await fc.assert(
      fc.asyncProperty(graphModel, async (m) => {
        const x = input([m.features], { name: 'x' });
        const x2 = m.second === undefined ? undefined : input([m.second], { name: 'x2' });
        let h: SymbolicTensor = x2 ? concatenate([x, x2]) : x;
        const trunk = dense(3, { activation: 'tanh' }).apply(h);
        h = trunk;
        let norms = false;
        for (const b of m.blocks) {
          if (b.kind === 'residual') {
            let f = dense(h.width, { activation: b.activation }).apply(h);
            // Batch normalization of fewer than 3 features is degenerate (see above).
            if (b.norm && h.width >= 3) {
              f = batchNormalization().apply(f);
              norms = true;
            }
            h = add([h, f]);
          } else if (b.kind === 'concatenate') {
            h = concatenate([h, dense(b.units, { activation: b.activation }).apply(h)]);
          } else if (b.kind === 'multiply') {
            h = multiply([dense(b.units, { activation: 'sigmoid' }).apply(h), dense(b.units, { activation: 'tanh' }).apply(h)]);
          } else {
            const shared = dense(b.units, { activation: b.activation });
            const other = activation('tanh').apply(h);
            h = (b.join === 'add' ? add : concatenate)([shared.apply(h), shared.apply(other)]);
          }
        }
        const out = dense(m.units, { activation: m.head.activation }).apply(h);
        const spec = fcModel({
          inputs: x2 ? [x, x2] : [x],
          outputs: [
            { tensor: out, name: 'main', loss: { ...m.head.loss, reduction: m.reduction } as ModelOutput['loss'], lossWeight: m.lossWeight },
            ...(m.auxiliary ? [{ tensor: dense(m.auxiliary.units).apply(trunk), name: 'aux', loss: losses.mse(), lossWeight: m.auxiliary.lossWeight }] : []),
          ],
          batchSize: m.batchSize,
          seed: m.seed,
        });
        const n = m.partial ? Math.max(3, m.batchSize - 1) : m.batchSize;
        const feed = { x: randomMatrix(n, m.features, m.seed + 1, 1.5), ...(m.second !== undefined ? { x2: randomMatrix(n, m.second, m.seed + 3, 1.5) } : {}) };
        const main = m.head.labels(n, m.units, m.seed + 2);
        const y = m.auxiliary ? { main, aux: randomMatrix(n, m.auxiliary.units, m.seed + 4) } : main;
        await expectThreeWayAgreement(spec, feed, y, { training: norms, perturbSeed: m.seed + 100, nonZero: false });
      }),
      { seed: 20261124, numRuns: 12 },
    );
  });
});
