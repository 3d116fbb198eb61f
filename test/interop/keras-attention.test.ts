// multi_head_attention's Keras form: Keras's per-role kernels query/key [E, H, keyDim], value
// [E, H, valueDim], attention_output [H, valueDim, E] and their biases, mapped onto torch's stacked
// in_proj_weight. Checked by a Keras MultiHeadAttention written out by hand in float64 from those
// Keras-layout weights (einsums as Keras computes them), and by a round trip through the Keras
// form (export, import: the same spec and weights). TensorFlow.js has no MultiHeadAttention layer,
// so its loader is not asked.
import { describe, expect, it } from 'vitest';
import { exportTfjs, importKerasModel, interpret } from '../../compiler/index.ts';
import { maxRelativeError } from '../support/compare.ts';
import { perturbed, randomMatrix } from '../support/data.ts';

const STEPS = 4;
const WIDTH = 4;

/** The exported weights by Keras name, as float64 arrays. */
function kerasWeightsOf(artifacts: ReturnType<typeof exportTfjs>['artifacts']): Map<string, { shape: readonly number[]; data: Float64Array }> {
  const bytes = artifacts.weightData as ArrayBuffer;
  const out = new Map<string, { shape: readonly number[]; data: Float64Array }>();
  let offset = 0;
  for (const spec of artifacts.weightSpecs) {
    const size = spec.shape.reduce((a, d) => a * d, 1);
    out.set(spec.name, { shape: spec.shape, data: Float64Array.from(new Float32Array(bytes, offset, size)) });
    offset += size * 4;
  }
  return out;
}

/** Keras's MultiHeadAttention on one sample x [T][E] (query = value = key), from its own weights. */
function kerasAttention(x: readonly (readonly number[])[], w: (name: string) => Float64Array, heads: number, keyDim: number, valueDim: number): number[][] {
  const project = (role: string, d: number): number[][][] =>
    x.map((row) => Array.from({ length: heads }, (_, h) => Array.from({ length: d }, (_, j) => row.reduce((s, v, e) => s + v * w(`${role}/kernel`)[(e * heads + h) * d + j]!, w(`${role}/bias`)[h * d + j]!))));
  const q = project('query', keyDim);
  const k = project('key', keyDim);
  const v = project('value', valueDim);
  return x.map((_, t) => {
    const context = Array.from({ length: heads }, (_, h) => {
      const scores = x.map((__, s) => q[t]![h]!.reduce((a, qv, j) => a + qv * k[s]![h]![j]!, 0) / Math.sqrt(keyDim));
      const top = Math.max(...scores);
      const e = scores.map((sc) => Math.exp(sc - top));
      const total = e.reduce((a, b) => a + b, 0);
      return Array.from({ length: valueDim }, (_, j) => e.reduce((a, p, s) => a + (p / total) * v[s]![h]![j]!, 0));
    });
    return Array.from({ length: WIDTH }, (_, o) => context.reduce((a, c, h) => a + c.reduce((b, cv, j) => b + cv * w('attention_output/kernel')[(h * valueDim + j) * WIDTH + o]!, 0), w('attention_output/bias')[o]!));
  });
}

describe('multi_head_attention in Keras form', () => {
  it("computes Keras's MultiHeadAttention on its Keras-layout weights", () => {
    const spec = {
      inputs: [{ name: 'x', shape: [STEPS, WIDTH] }],
      nodes: [
        { type: 'multi_head_attention', name: 'mha', numHeads: 2, keyDim: 3, valueDim: 2, inputs: ['x'] },
        { type: 'global_average_pooling1d', name: 'pool', inputs: ['mha'] },
      ],
      outputs: [{ node: 'pool', loss: { type: 'mse' } }],
    };
    const m = interpret(spec);
    const weights = perturbed(m.getWeights(), 7);
    m.setWeights(weights);
    const keras = kerasWeightsOf(exportTfjs(spec, m.getWeights()).artifacts);
    expect([...keras.entries()].map(([name, t]) => [name, t.shape])).toEqual([
      ['mha/query/kernel', [WIDTH, 2, 3]],
      ['mha/query/bias', [2, 3]],
      ['mha/key/kernel', [WIDTH, 2, 3]],
      ['mha/key/bias', [2, 3]],
      ['mha/value/kernel', [WIDTH, 2, 2]],
      ['mha/value/bias', [2, 2]],
      ['mha/attention_output/kernel', [2, 2, WIDTH]],
      ['mha/attention_output/bias', [WIDTH]],
    ]);
    const x = randomMatrix(3, STEPS * WIDTH, 2).map((row) => Array.from({ length: STEPS }, (_, t) => row.slice(t * WIDTH, (t + 1) * WIDTH)));
    const expected = x.flatMap((sample) => {
      const out = kerasAttention(sample, (name) => keras.get(`mha/${name}`)!.data, 2, 3, 2);
      return Array.from({ length: WIDTH }, (_, o) => out.reduce((a, row) => a + row[o]!, 0) / STEPS);
    });
    // The Keras weights are float32 roundings of nabla's float64 ones.
    expect(maxRelativeError(m.predict(x).data, expected)).toBeLessThan(1e-6);
  });

  it('round-trips through the Keras form: the same spec and weights (a cross-attention, torch-shaped heads, no bias)', () => {
    const spec = {
      inputs: [{ name: 'x', shape: [STEPS, WIDTH] }],
      nodes: [
        { type: 'multi_head_attention', name: 'self', numHeads: 2, inputs: ['x'] },
        { type: 'multi_head_attention', name: 'cross', numHeads: 3, keyDim: 2, valueDim: 5, useBias: false, inputs: ['self', 'x'] },
        { type: 'global_average_pooling1d', name: 'pool', inputs: ['cross'] },
      ],
      outputs: [{ node: 'pool', loss: { type: 'mse' } }],
    };
    const m = interpret(spec);
    const weights = perturbed(m.getWeights(), 8);
    m.setWeights(weights);
    const exported = exportTfjs(spec, m.getWeights());
    const { spec: back, weights: imported } = importKerasModel(exported.artifacts as never, { loss: { type: 'mse' } });
    const nodes = (back as unknown as { nodes: Record<string, unknown>[] }).nodes;
    expect(nodes.find((n) => n['name'] === 'cross')).toMatchObject({ type: 'multi_head_attention', numHeads: 3, keyDim: 2, valueDim: 5, useBias: false, inputs: ['self', 'x'] });
    expect(nodes.find((n) => n['name'] === 'self')).toMatchObject({ type: 'multi_head_attention', numHeads: 2, keyDim: 2, valueDim: 2 });
    expect([...imported!.keys()].sort()).toEqual(Object.keys(weights).sort());
    for (const [name, w] of Object.entries(weights)) expect(Array.from(imported!.get(name)!.data), name).toEqual(Array.from(Float32Array.from(w)));
  });

  it('refuses what the Keras config cannot hold, naming the layer and field', () => {
    const spec = {
      input: { shape: [STEPS, WIDTH] },
      layers: [{ type: 'multi_head_attention', name: 'causal', numHeads: 2, useCausalMask: true }, { type: 'global_average_pooling1d' }],
      loss: { type: 'mse' },
    };
    expect(() => exportTfjs(spec, interpret(spec).getWeights())).toThrow(/layer 'causal' \(multi_head_attention\): Keras's use_causal_mask is an argument of the call/);
  });
});
