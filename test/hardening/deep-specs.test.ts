// Model size and layer options at the spec boundary: deep graphs are walked without recursion (a
// chain of thousands of nodes parses, builds and summarises), the layer limit is refused by name
// before any work, and layer options are checked as the float32 values the trainer will use.
import { describe, expect, it } from 'vitest';
import { activation, dense, input, losses, model } from '../../compiler/model/builder.ts';
import { parseSpec, SpecError } from '../../compiler/model/spec.ts';
import { summarize } from '../../compiler/model/summary.ts';
import { MAX_LAYERS } from '../../compiler/layers/fields.ts';

const DEEP = 6_000;

const chainNodes = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ type: 'activation', name: `a${i}`, activation: 'tanh', inputs: [i === 0 ? 'x' : `a${i - 1}`] }));

describe('deep specs', () => {
  it(`a graph chain of ${DEEP} nodes parses and summarises (no recursion per node)`, () => {
    // Written last-first, so the sort has to walk the whole chain from its far end.
    const nodes = chainNodes(DEEP).reverse();
    const spec = parseSpec({ inputs: [{ name: 'x', shape: [3] }], nodes, outputs: [{ node: `a${DEEP - 1}`, loss: { type: 'mse' } }] });
    expect(summarize(spec).layers).toHaveLength(DEEP);
  });

  it(`a cycle through ${DEEP} nodes is found and named`, () => {
    const nodes = chainNodes(DEEP);
    nodes[0] = { ...nodes[0]!, inputs: [`a${DEEP - 1}`] };
    const spec = { inputs: [{ name: 'x', shape: [3] }], nodes: [...nodes, { type: 'add', name: 'out', inputs: ['x', `a${DEEP - 1}`] }], outputs: [{ node: 'out', loss: { type: 'mse' } }] };
    expect(() => parseSpec(spec)).toThrow(/cycle a0 → a1 → .* → a0/);
  });

  it(`the functional builder walks a chain of ${DEEP} layers`, () => {
    const x = input([3], { name: 'x' });
    let h = dense(3).apply(x);
    for (let i = 0; i < DEEP; i++) h = activation('relu').apply(h);
    expect(model({ inputs: [x], outputs: [{ tensor: h, loss: losses.mse() }] }).nodes).toHaveLength(DEEP + 1);
  });

  it(`more than ${MAX_LAYERS} layers or nodes are refused, naming the limit`, () => {
    const layers = Array.from({ length: MAX_LAYERS + 1 }, () => ({ type: 'activation', activation: 'relu' }));
    expect(() => parseSpec({ input: { shape: [2] }, layers, loss: { type: 'mse' } })).toThrow(new RegExp(`layers: more than ${MAX_LAYERS} layers, the most a model may have`));
    const nodes = chainNodes(MAX_LAYERS + 1);
    expect(() => parseSpec({ inputs: [{ name: 'x', shape: [3] }], nodes, outputs: [{ node: `a${MAX_LAYERS}`, loss: { type: 'mse' } }] })).toThrow(
      new RegExp(`nodes: more than ${MAX_LAYERS} nodes`),
    );
  });
});

describe('layer options are float32 values', () => {
  const one = (layer: Record<string, unknown>) => ({ input: { shape: [2] }, layers: [layer], loss: { type: 'mse' } });
  const cases: [string, unknown, RegExp][] = [
    ['an epsilon that is 0 in float32', one({ type: 'batch_normalization', epsilon: 1e-50 }), /layers\[0\]\.epsilon: expected a positive number; this one is 0 in float32/],
    ['a layer-norm epsilon beyond float32', one({ type: 'layer_normalization', epsilon: 1e39 }), /layers\[0\]\.epsilon: expected a number that is finite in float32/],
    ['a momentum that is 1 in float32', one({ type: 'batch_normalization', momentum: 0.99999999 }), /layers\[0\]\.momentum: expected a number in \[0, 1\); this one is 1 in float32/],
    ['a dropout rate that is 1 in float32', one({ type: 'dropout', rate: 0.999999999 }), /layers\[0\]\.rate: expected a number in \[0, 1\); this one is 1 in float32/],
    [
      'a loss weight beyond float32',
      { inputs: [{ name: 'x', shape: [2] }], nodes: [{ type: 'dense', name: 'd', units: 1, inputs: ['x'] }], outputs: [{ node: 'd', loss: { type: 'mse' }, lossWeight: 1e39 }] },
      /outputs\[0\]\.lossWeight: expected a number that is finite in float32/,
    ],
  ];
  it.each(cases)('%s is refused, naming the field', (_name, spec, message) => {
    expect(() => parseSpec(spec)).toThrow(SpecError);
    expect(() => parseSpec(spec)).toThrow(message);
  });

  it('values at the edges of float32 are accepted', () => {
    expect(() => parseSpec(one({ type: 'batch_normalization', epsilon: 1.4e-45, momentum: 0.9999999 }))).not.toThrow();
    expect(() => parseSpec(one({ type: 'dropout', rate: 0.9999999 }))).not.toThrow();
  });
});
