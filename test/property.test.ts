// Random valid sequential models — depth, widths, hidden activations with their options,
// dropout, layer and batch normalization (checked in training mode), the last activation and a
// loss that fits it, the reduction, bias or not — and random graph, convolutional, sequence,
// masked sequence, attention and masked attention models, checked three ways like test/gradients.test.ts:
// interpreter vs centered differences (≤ 1e-7), compiled vs interpreter (≤ 1e-5), on a full or
// partial batch. Fixed seeds.
// `NABLA_FUZZ=k npm test` draws k times as many models of each kind (a longer soak).
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { ActivationSpec } from '../compiler/model/activations.ts';
import { activation, add, batchNormalization, concatenate, dense, input, losses, model as fcModel, multiply, type ModelOutput, type SymbolicTensor } from '../compiler/model/builder.ts';
import { Rng } from '../runtime/prng.ts';
import { oneHot, randomBits, randomClasses, randomMatrix } from './support/data.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';

const fuzzRuns = (runs: number): number => runs * Math.max(1, Math.floor(Number(process.env['NABLA_FUZZ'] ?? 1)) || 1);

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
      { seed: 20261123, numRuns: fuzzRuns(10) },
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
      { seed: 20261124, numRuns: fuzzRuns(6) },
    );
  });
});

// Random convolutional models (graph form): a dense layer reshaped to an image [h, w, c], then a
// stack of image layers — conv2d (kernel, strides, padding, activation), max and average pooling
// (either padding), zero padding, per-channel batch normalization, dropout, residual conv blocks
// added to their input — then a global pooling or a flatten, and the dense head. Shapes are tracked as the
// stack is drawn so that every layer fits (a 'valid' window larger than the image becomes 'same').
type ImageShape = readonly [number, number, number];
const imageBlock = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('conv' as const), filters: fc.integer({ min: 1, max: 4 }), kernel: fc.integer({ min: 1, max: 3 }), strides: fc.integer({ min: 1, max: 2 }), padding: fc.constantFrom('valid' as const, 'same' as const), activation: hiddenActivation }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('max_pooling2d' as const, 'average_pooling2d' as const), pool: fc.integer({ min: 2, max: 3 }), strides: fc.integer({ min: 1, max: 2 }), padding: fc.constantFrom('valid' as const, 'same' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('zero_padding2d' as const), padding: fc.constantFrom<number | [number, number] | [[number, number], [number, number]]>(1, [0, 1], [[1, 0], [0, 2]]) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('batch_normalization' as const), center: fc.boolean(), scale: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dropout' as const), rate: fc.constantFrom(0.1, 0.4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('residual' as const), kernel: fc.constantFrom(1, 3), activation: hiddenActivation }) },
);

const convModel = fc.record({
  image: fc.tuple(fc.integer({ min: 3, max: 6 }), fc.integer({ min: 3, max: 6 }), fc.integer({ min: 1, max: 3 })),
  blocks: fc.array(imageBlock, { minLength: 1, maxLength: 4 }),
  flatten: fc.constantFrom('global_average_pooling2d', 'global_max_pooling2d', 'flatten'),
  units: fc.integer({ min: 2, max: 4 }),
  head,
  batchSize: fc.integer({ min: 3, max: 5 }),
  partial: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1000 }),
});

const windowOut = (size: number, k: number, s: number, padding: 'valid' | 'same'): number => (padding === 'same' ? Math.ceil(size / s) : Math.floor((size - k) / s) + 1);

type ImageBlock = typeof imageBlock extends fc.Arbitrary<infer T> ? T : never;

/**
 * The drawn stack as graph-form nodes reading `from`, each fitted to the shape before it, and
 * the last node's name.
 */
function imageNodes(from: string, start: ImageShape, blocks: readonly ImageBlock[]): { nodes: Record<string, unknown>[]; last: string; training: boolean } {
  let [h, w, c] = start;
  let training = false;
  const nodes: Record<string, unknown>[] = [];
  let last = from;
  const layers = {
    push(layer: Record<string, unknown>): void {
      const name = `l${nodes.length}`;
      nodes.push({ ...layer, name, inputs: [last] });
      last = name;
    },
  };
  let normalized = false;
  for (const b of blocks) {
    normalized &&= b.kind === 'max_pooling2d' || b.kind === 'average_pooling2d' || b.kind === 'batch_normalization';
    if (b.kind === 'conv' || b.kind === 'max_pooling2d' || b.kind === 'average_pooling2d') {
      const k = b.kind === 'conv' ? b.kernel : b.pool;
      const padding = k > Math.min(h, w) ? 'same' : b.padding;
      if (b.kind === 'conv') layers.push({ type: 'conv2d', filters: b.filters, kernelSize: k, strides: b.strides, padding, activation: b.activation });
      else layers.push({ type: b.kind, poolSize: k, strides: b.strides, padding });
      [h, w] = [windowOut(h, k, b.strides, padding), windowOut(w, k, b.strides, padding)];
      if (b.kind === 'conv') c = b.filters;
    } else if (b.kind === 'zero_padding2d') {
      const p = b.padding;
      const [[t, bottom], [l, r]] = typeof p === 'number' ? [[p, p], [p, p]] : typeof p[0] === 'number' ? [[p[0], p[0]], [p[1] as number, p[1] as number]] : (p as [[number, number], [number, number]]);
      layers.push({ type: 'zero_padding2d', padding: p });
      [h, w] = [h + t + bottom, w + l + r];
    } else if (b.kind === 'batch_normalization') {
      // A second normalization with only pooling between would cancel the first one's shift: its
      // β would have an exactly zero gradient that float noise cannot confirm. Skipped then.
      if (normalized) continue;
      layers.push({ type: 'batch_normalization', center: b.center, scale: b.scale });
      training = true;
      normalized = true;
    } else if (b.kind === 'dropout') {
      layers.push({ type: 'dropout', rate: b.rate });
      training = true;
    } else if (b.kind === 'residual') {
      // x + conv(x): a conv keeping the shape, added to its input.
      const skip = last;
      layers.push({ type: 'conv2d', filters: c, kernelSize: b.kernel, padding: 'same', activation: b.activation });
      const name = `l${nodes.length}`;
      nodes.push({ type: 'add', name, inputs: [skip, last] });
      last = name;
    }
  }
  return { nodes, last, training };
}

describe('random convolutional models', () => {
  it('agree three ways (fast-check, fixed seed)', async () => {
    await fc.assert(
      fc.asyncProperty(convModel, async (m) => {
        const [h0, w0, c0] = m.image;
        const stack = imageNodes('image', m.image, m.blocks);
        const spec = {
          inputs: [{ name: 'x', shape: [3] }],
          nodes: [
            { type: 'dense', name: 'd', units: h0 * w0 * c0, activation: 'tanh', inputs: ['x'] },
            { type: 'reshape', name: 'image', targetShape: [h0, w0, c0], inputs: ['d'] },
            ...stack.nodes,
            { type: m.flatten, name: 'rows', inputs: [stack.last] },
            { type: 'dense', name: 'out', units: m.units, activation: m.head.activation, inputs: ['rows'] },
          ],
          outputs: [{ node: 'out', loss: m.head.loss }],
          batchSize: m.batchSize,
          seed: m.seed,
        };
        const n = m.partial ? m.batchSize - 1 : m.batchSize;
        await expectThreeWayAgreement(spec, { x: randomMatrix(n, 3, m.seed + 1, 1.5) }, { out: m.head.labels(n, m.units, m.seed + 2) }, { training: stack.training, perturbSeed: m.seed + 100, nonZero: false });
      }),
      { seed: 20261201, numRuns: fuzzRuns(3) },
    );
  }, 600_000);
});

const recurrentLayer = fc.record({
  type: fc.constantFrom('simple_rnn' as const, 'lstm' as const, 'gru' as const),
  units: fc.integer({ min: 1, max: 3 }),
  goBackwards: fc.boolean(),
  useBias: fc.boolean(),
  resetAfter: fc.boolean(),
  activation: fc.constantFrom<ActivationSpec>('tanh', 'sigmoid', 'softplus'),
  bidirectional: fc.boolean(),
});

type RecurrentDraw = typeof recurrentLayer extends fc.Arbitrary<infer T> ? T : never;

/** The drawn recurrent layers as specs: every layer but the last returns its sequence; the last ends as `end` says. */
function recurrentStack(drawn: readonly RecurrentDraw[], end: 'last' | 'sequence' | 'state'): unknown[] {
  return drawn.map((l, i) => {
    const ends = i === drawn.length - 1 ? end : 'sequence';
    const { bidirectional, resetAfter, ...options } = l;
    const layer = { ...options, ...(l.type === 'gru' ? { resetAfter } : {}), returnSequences: ends === 'sequence', returnState: ends === 'state' && !bidirectional };
    return bidirectional ? { type: 'bidirectional', layer } : layer;
  });
}

/** What the plain and the masked sequence models draw alike. */
const sequenceDraws = {
  features: fc.integer({ min: 1, max: 3 }),
  layers: fc.array(recurrentLayer, { minLength: 1, maxLength: 2 }),
  /** How the last layer ends: its last h, its whole sequence flattened, or its final state. */
  end: fc.constantFrom('last' as const, 'sequence' as const, 'state' as const),
  units: fc.integer({ min: 1, max: 3 }),
  head,
  batchSize: fc.integer({ min: 3, max: 5 }),
  partial: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1000 }),
};

const sequenceModel = fc.record({ steps: fc.integer({ min: 1, max: 4 }), ...sequenceDraws });

describe('random sequence models', () => {
  it('agree three ways (fast-check, fixed seed)', async () => {
    await fc.assert(
      fc.asyncProperty(sequenceModel, async (m) => {
        const layers = recurrentStack(m.layers, m.end);
        const spec = {
          input: { shape: [m.steps, m.features] },
          layers: [...layers, ...(m.end === 'sequence' ? [{ type: 'flatten' }] : []), { type: 'dense', name: 'out', units: m.units, activation: m.head.activation }],
          loss: m.head.loss,
          batchSize: m.batchSize,
          seed: m.seed,
        };
        const n = m.partial ? m.batchSize - 1 : m.batchSize;
        const x = randomMatrix(n, m.steps * m.features, m.seed + 1, 1.5).map((row) => Array.from({ length: m.steps }, (_, t) => row.slice(t * m.features, (t + 1) * m.features)));
        await expectThreeWayAgreement(spec, x, m.head.labels(n, m.units, m.seed + 2), { perturbSeed: m.seed + 100, nonZero: false });
      }),
      { seed: 20261202, numRuns: fuzzRuns(3) },
    );
  }, 600_000);
});

/**
 * n rows of `steps` int32 ids below `vocabulary`, 0 (masked) anywhere, but each row keeps two
 * adjacent steps: a recurrent weight then always gets a gradient well above the centered
 * differences' noise (with one kept step, h·W_hhᵀ is never formed), and attention a key to attend.
 */
function paddedIds(n: number, steps: number, vocabulary: number, seed: number): number[][] {
  const rng = new Rng(seed, 3);
  return Array.from({ length: n }, () => {
    const row = Array.from({ length: steps }, () => rng.below(vocabulary));
    const kept = rng.below(steps - 1);
    row[kept] = 1 + rng.below(vocabulary - 1);
    row[kept + 1] = 1 + rng.below(vocabulary - 1);
    return row;
  });
}

/** What a masked model draws beside its middle layers. */
interface MaskedDraw {
  readonly steps: number;
  readonly vocabulary: number;
  readonly features: number;
  readonly units: number;
  readonly head: Head;
  readonly batchSize: number;
  readonly partial: boolean;
  readonly seed: number;
}

/** ids → embedding with maskZero → `middle` → the dense head, three ways on padded ids (a partial batch where drawn). */
async function expectMaskedAgreement(m: MaskedDraw, middle: readonly unknown[]): Promise<void> {
  const spec = {
    input: { shape: [m.steps], dtype: 'int32' },
    layers: [{ type: 'embedding', inputDim: m.vocabulary, outputDim: m.features, maskZero: true }, ...middle, { type: 'dense', name: 'out', units: m.units, activation: m.head.activation }],
    loss: m.head.loss,
    batchSize: m.batchSize,
    seed: m.seed,
  };
  const n = m.partial ? m.batchSize - 1 : m.batchSize;
  await expectThreeWayAgreement(spec, paddedIds(n, m.steps, m.vocabulary, m.seed), m.head.labels(n, m.units, m.seed + 2), { perturbSeed: m.seed + 100, nonZero: false });
}

// Random masked sequence models: int32 ids padded with 0 anywhere (each row keeps two adjacent
// steps at least), an embedding with maskZero, then recurrent layers as above reading the mask; a
// returned sequence ends in global_average_pooling1d over the unmasked steps (flatten takes none).
const maskedSequenceModel = fc.record({ steps: fc.integer({ min: 2, max: 5 }), vocabulary: fc.integer({ min: 2, max: 6 }), ...sequenceDraws });

describe('random masked sequence models', () => {
  it('agree three ways (fast-check, fixed seed)', async () => {
    await fc.assert(
      fc.asyncProperty(maskedSequenceModel, async (m) => {
        await expectMaskedAgreement(m, [...recurrentStack(m.layers, m.end), ...(m.end === 'sequence' ? [{ type: 'global_average_pooling1d' }] : [])]);
      }),
      { seed: 20261202, numRuns: fuzzRuns(3) },
    );
  }, 600_000);
});

// Random attention models on sequences [steps, features]: sometimes a position embedding, then
// multi-head attention (heads, a head width of its own or the default, causal or not) and
// transformer blocks (heads, MLP width and activation, causal or not), sometimes a layer
// normalization, then a flatten or a global average pooling and the dense head.
const attentionBlock = fc.oneof(
  fc.record({ type: fc.constant('multi_head_attention'), numHeads: fc.integer({ min: 1, max: 3 }), keyDim: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }), useCausalMask: fc.boolean() }),
  fc.record({ type: fc.constant('transformer_block'), numHeads: fc.constantFrom(1, 2), mlpDim: fc.integer({ min: 2, max: 6 }), activation: fc.constantFrom<ActivationSpec>('gelu', 'relu', 'tanh'), useCausalMask: fc.boolean() }),
  fc.record({ type: fc.constant('layer_normalization') }),
);

/** What the plain and the masked attention models draw alike. */
const attentionDraws = {
  steps: fc.integer({ min: 2, max: 5 }),
  blocks: fc.array(attentionBlock, { minLength: 1, maxLength: 2 }),
  units: fc.integer({ min: 2, max: 4 }),
  head,
  batchSize: fc.integer({ min: 3, max: 5 }),
  partial: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1000 }),
};

type AttentionDraw = typeof attentionBlock extends fc.Arbitrary<infer T> ? T : never;

/** The drawn blocks as specs: an attention layer whose heads do not divide the features gets a keyDim of its own. */
const attentionLayers = (blocks: readonly AttentionDraw[], features: number): unknown[] =>
  blocks.map((b) => (b.type === 'multi_head_attention' && b.keyDim === undefined && features % b.numHeads !== 0 ? { ...b, keyDim: 2 } : b));

const attentionModel = fc.record({
  // Even, so one or two heads of the default width divide it; a keyDim is given where they do not.
  features: fc.constantFrom(2, 4, 6),
  position: fc.boolean(),
  pooling: fc.constantFrom('flatten', 'global_average_pooling1d'),
  ...attentionDraws,
});

describe('random attention models', () => {
  it('agree three ways (fast-check, fixed seed)', async () => {
    await fc.assert(
      fc.asyncProperty(attentionModel, async (m) => {
        const spec = {
          input: { shape: [m.steps, m.features] },
          layers: [...(m.position ? [{ type: 'position_embedding' }] : []), ...attentionLayers(m.blocks, m.features), { type: m.pooling }, { type: 'dense', units: m.units, activation: m.head.activation }],
          loss: m.head.loss,
          batchSize: m.batchSize,
          seed: m.seed,
        };
        const n = m.partial ? m.batchSize - 1 : m.batchSize;
        const x = randomMatrix(n, m.steps * m.features, m.seed + 1, 1.5).map((row) => Array.from({ length: m.steps }, (_, t) => row.slice(t * m.features, (t + 1) * m.features)));
        const y = m.head.labels(n, m.units, m.seed + 2);
        await expectThreeWayAgreement(spec, x, y, { perturbSeed: m.seed + 100, nonZero: false });
      }),
      { seed: 20261201, numRuns: fuzzRuns(3) },
    );
  }, 300_000);
});

// Random masked attention models: padded ids as above through an embedding with maskZero, then
// the attention blocks above reading the mask (masked queries and keys hidden; layer
// normalization passes it on), then global average pooling over the kept steps and the head.
const maskedAttentionModel = fc.record({
  vocabulary: fc.integer({ min: 2, max: 6 }),
  // Not 2: a layer normalization over two features maps them to about ±1 whatever they are, and
  // its gradient, near 0, is then below the centered differences' noise.
  features: fc.constantFrom(4, 6),
  ...attentionDraws,
});

describe('random masked attention models', () => {
  it('agree three ways (fast-check, fixed seed)', async () => {
    await fc.assert(
      fc.asyncProperty(maskedAttentionModel, async (m) => {
        await expectMaskedAgreement(m, [...attentionLayers(m.blocks, m.features), { type: 'global_average_pooling1d' }]);
      }),
      { seed: 20261202, numRuns: fuzzRuns(3) },
    );
  }, 300_000);
});
