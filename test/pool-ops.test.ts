// The pooling ops compiled against the interpreter (float32 ≤ 1e-5) and the interpreter against
// centered differences (≤ 1e-7), full and partial batch. A probe layer, registered here, views a
// dense layer's output as [N, H, W, C] (or [N, L, C]), pools it and flattens it again, so the
// pool's forward kernel and its backward kernel (scatter, transpose) both run in a training step.
// Channel counts cover the f32x4 lanes alone (4), lanes and a tail (6) and the tail alone (3).
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { z } from 'zod';
import { defineLayer } from '../compiler/layers/layer.ts';
import { positiveInt } from '../compiler/layers/fields.ts';
import { registerLayer } from '../compiler/layers/registry.ts';
import { BATCH } from '../compiler/ir/types.ts';
import { randomMatrix } from './support/data.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';

const probe = defineLayer({
  type: 'pool_probe',
  options: {
    view: z.array(positiveInt),
    op: z.enum(['max_pool', 'avg_pool', 'max_pool_gather']),
    pool: z.array(positiveInt),
    strides: z.array(positiveInt),
    padding: z.enum(['valid', 'same']),
  },
  outputShape: (o) => [pooledWidth(o)],
  lower: ({ b, options: o, inputs }) => {
    const x = b.op('reshape', [inputs[0]!], { shape: [BATCH, ...o.view] });
    const attrs = { pool: o.pool, strides: o.strides, padding: o.padding };
    // The gather reads tanh(x) at x's argmaxes: its gradient is the scatter's, into tanh(x).
    const y = o.op === 'max_pool_gather' ? b.op('max_pool_gather', [x, b.op('tanh', [x])], attrs) : b.op(o.op, [x], attrs);
    const width = b.node(y).shape.slice(1).reduce<number>((a, d) => a * (d as number), 1);
    return b.op('reshape', [y], { shape: [BATCH, width] });
  },
});

const removeProbe = registerLayer(probe);
afterAll(removeProbe);

/** The flattened pooled width (TensorFlow's output extents). */
function pooledWidth(o: { readonly view: readonly number[]; readonly pool: readonly number[]; readonly strides: readonly number[]; readonly padding: 'valid' | 'same' }): number {
  const spatial = o.view.slice(0, -1);
  const out = spatial.map((d, i) => (o.padding === 'same' ? Math.ceil(d / o.strides[i]!) : Math.floor((d - o.pool[i]!) / o.strides[i]!) + 1));
  return out.reduce((a, d) => a * d, 1) * o.view.at(-1)!;
}

interface Case {
  readonly name: string;
  readonly op: 'max_pool' | 'avg_pool' | 'max_pool_gather';
  readonly view: number[];
  readonly pool: number[];
  readonly strides: number[];
  readonly padding: 'valid' | 'same';
}

const CASES: readonly Case[] = [
  { name: 'max 2×2/2 valid, C = 4', op: 'max_pool', view: [4, 4, 4], pool: [2, 2], strides: [2, 2], padding: 'valid' },
  { name: 'max 3×3/2 same, C = 6', op: 'max_pool', view: [5, 5, 6], pool: [3, 3], strides: [2, 2], padding: 'same' },
  { name: 'max 2×3/1×2 same, C = 3 (overlapping windows)', op: 'max_pool', view: [3, 5, 3], pool: [2, 3], strides: [1, 2], padding: 'same' },
  { name: 'max 1-D 3/2 valid, C = 5', op: 'max_pool', view: [7, 5], pool: [3], strides: [2], padding: 'valid' },
  { name: 'gather 2×2/1 valid, C = 6', op: 'max_pool_gather', view: [3, 3, 6], pool: [2, 2], strides: [1, 1], padding: 'valid' },
  { name: 'avg 2×2/2 valid, C = 4', op: 'avg_pool', view: [4, 4, 4], pool: [2, 2], strides: [2, 2], padding: 'valid' },
  { name: 'avg 3×3/2 same (border windows divide by their input cells), C = 6', op: 'avg_pool', view: [5, 4, 6], pool: [3, 3], strides: [2, 2], padding: 'same' },
  { name: 'avg 1-D 4/1 same, C = 3', op: 'avg_pool', view: [6, 3], pool: [4], strides: [1], padding: 'same' },
];

describe('pooling ops: compiled vs interpreter vs centered differences', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const features = c.view.reduce((a, d) => a * d, 1);
    const spec = {
      input: { shape: [5] },
      layers: [
        { type: 'dense', units: features, activation: 'tanh' },
        { type: 'pool_probe', view: c.view, op: c.op, pool: c.pool, strides: c.strides, padding: c.padding },
        { type: 'dense', units: 2 },
      ],
      loss: { type: 'mse' },
      batchSize: 4,
      seed: 3,
    };
    for (const rows of [4, 3]) {
      await expectThreeWayAgreement(spec, randomMatrix(rows, 5, 10 + rows, 1.5), randomMatrix(rows, 2, 20 + rows));
    }
  });
});

describe('max pooling ties', () => {
  it('route the gradient to the first maximum in scan order, compiled (f32x4 lanes and tail) as interpreted', async () => {
    // A zero kernel and a zero bias make every cell of the 2×2 window equal, in every channel.
    const spec = {
      input: { shape: [3] },
      layers: [
        { type: 'dense', name: 'd', units: 24, kernelInitializer: { type: 'zeros' } },
        { type: 'pool_probe', view: [2, 2, 6], op: 'max_pool', pool: [2, 2], strides: [2, 2], padding: 'valid' },
        { type: 'dense', name: 'out', units: 2 },
      ],
      loss: { type: 'mse' },
      batchSize: 4,
      seed: 5,
    };
    const x = randomMatrix(4, 3, 1);
    const y = randomMatrix(4, 2, 2);
    const trainer = await compile(spec);
    const interpreter = interpret(spec);
    const exact = interpreter.gradients(x, y).grads['d.bias']!.data;
    const compiled = trainer.gradients(x, y).grads['d.bias']!.data;
    // The bias of the window's first cell (channels 0–5) takes the whole gradient; the other three cells none.
    expect(Array.from(exact.slice(6)).every((v) => v === 0)).toBe(true);
    expect(Array.from(exact.slice(0, 6)).every((v) => v !== 0)).toBe(true);
    expect(Array.from(compiled.slice(6)).every((v) => v === 0)).toBe(true);
    for (let i = 0; i < 6; i++) expect(Math.abs(compiled[i]! - exact[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(exact[i]!)));
  });
});
