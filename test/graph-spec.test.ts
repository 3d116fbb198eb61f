// The graph form's validation (each error names the node and its field) and the functional builder
// that writes it.
import { describe, expect, it } from 'vitest';
import { activation, add, concatenate, dense, input, losses, model, multiply, residualBlock, sequential } from '../compiler/model/builder.ts';
import { parseSpec, SpecError } from '../compiler/model/spec.ts';
import { formatSummary, summarize } from '../compiler/model/summary.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';

const good = {
  inputs: [
    { name: 'a', shape: [3] },
    { name: 'b', shape: [4] },
  ],
  nodes: [
    { type: 'dense', name: 'h', units: 3, activation: 'relu', inputs: ['b'] },
    { type: 'add', name: 'sum', inputs: ['a', 'h'] },
    { type: 'dense', name: 'out', units: 1, inputs: ['sum'] },
  ],
  outputs: [{ node: 'out', loss: { type: 'mse' } }],
};
type Node = Record<string, unknown>;
const withNodes = (nodes: readonly Node[], rest: Record<string, unknown> = {}) => ({ ...good, nodes, ...rest });

describe('bad graph specs name the node and the field', () => {
  const cases: [string, unknown, RegExp][] = [
    ['unknown input name', withNodes([{ ...good.nodes[0], inputs: ['c'] }, ...good.nodes.slice(1)]), /nodes\[0\]\.inputs\[0\]: unknown input or node 'c' \(node 'h'\)/],
    ['a cycle', withNodes([{ ...good.nodes[0], inputs: ['out'] }, ...good.nodes.slice(1)], { inputs: [good.inputs[0]] }), /nodes\[\d\]\.inputs: cycle (h → sum → out → h|sum → out → h → sum|out → h → sum → out)/],
    ['add of different widths', withNodes([{ ...good.nodes[0], units: 5 }, ...good.nodes.slice(1)]), /nodes\[1\]\.inputs: add needs inputs of one shape; 'a' is \[N, 3\], 'h' is \[N, 5\] \(node 'sum'\)/],
    ['multiply of different widths', withNodes([good.nodes[0]!, { type: 'multiply', name: 'sum', inputs: ['a', 'b'] }, good.nodes[2]!]), /nodes\[1\]\.inputs: multiply needs inputs of one shape; 'a' is \[N, 3\], 'b' is \[N, 4\] \(node 'sum'\)/],
    ['duplicate node names', withNodes([...good.nodes, { type: 'dense', name: 'h', units: 1, inputs: ['out'] }]), /nodes\[3\]\.name: duplicate name 'h' \(also nodes\[0\]\)/],
    ['a node named like an input', withNodes([{ ...good.nodes[0], name: 'a' }, ...good.nodes.slice(1)]), /nodes\[0\]\.name: duplicate name 'a' \(also inputs\[0\]\)/],
    ['an unused node', withNodes([...good.nodes, { type: 'dense', name: 'stray', units: 2, inputs: ['sum'] }]), /nodes\[3\]: node 'stray' is unused: no output depends on it/],
    ['an unused input', { ...good, inputs: [...good.inputs, { name: 'c', shape: [2] }] }, /inputs\[2\]: input 'c' is unused/],
    ['an output on an unknown node', { ...good, outputs: [{ node: 'nope', loss: { type: 'mse' } }] }, /outputs\[0\]\.node: unknown node 'nope'/],
    ['an output on an input', { ...good, outputs: [{ node: 'out', loss: { type: 'mse' } }, { node: 'a', loss: { type: 'mse' } }] }, /outputs\[1\]\.node: 'a' is a model input; an output is a node/],
    ['duplicate output names', { ...good, outputs: [{ node: 'out', loss: { type: 'mse' } }, { node: 'out', loss: { type: 'mae' } }] }, /outputs\[1\]\.name: duplicate output name 'out' \(also outputs\[0\]\)/],
    ['a merge of one input', withNodes([good.nodes[0]!, { type: 'add', name: 'sum', inputs: ['h'] }, good.nodes[2]!]), /nodes\[1\]\.inputs: add reads at least 2 inputs/],
    ['a dense layer of two inputs', withNodes([{ ...good.nodes[0], inputs: ['a', 'b'] }, ...good.nodes.slice(1)]), /nodes\[0\]\.inputs: a dense layer reads one input, given 2 \(node 'h'\)/],
    ['a node without inputs', withNodes([{ type: 'dense', name: 'h', units: 3 }, ...good.nodes.slice(1)]), /nodes\[0\]\.inputs: missing/],
    ['an unknown node type', withNodes([{ type: 'conv3d', name: 'h', inputs: ['b'] }, ...good.nodes.slice(1)]), /nodes\[0\]\.type: unknown node type "conv3d"; expected one of dense, .*add, multiply, concatenate, .*apply/],
    ['a bad field of a node', withNodes([{ ...good.nodes[0], units: 0 }, ...good.nodes.slice(1)]), /nodes\[0\]\.units: expected a positive integer, got 0/],
    ['sharing an unknown layer', withNodes([...good.nodes.slice(0, 2), { type: 'apply', name: 'out', layer: 'nope', inputs: ['sum'] }]), /nodes\[2\]\.layer: unknown node 'nope' \(node 'out'\)/],
    [
      'sharing a layer on another width',
      withNodes([good.nodes[0]!, { type: 'apply', name: 'h2', layer: 'h', inputs: ['a'] }, { type: 'add', name: 'sum', inputs: ['h', 'h2'] }, good.nodes[2]!]),
      /nodes\[1\]\.inputs\[0\]: layer 'h' takes \[N, 4\], 'a' is \[N, 3\] \(node 'h2'\)/,
    ],
    [
      'sharing batch normalization',
      withNodes([{ type: 'batch_normalization', name: 'bn', inputs: ['a'] }, { type: 'apply', name: 'bn2', layer: 'bn', inputs: ['a'] }, { type: 'add', name: 'sum', inputs: ['bn', 'bn2'] }, good.nodes[2]!], { inputs: [good.inputs[0]] }),
      /nodes\[1\]\.layer: 'bn' is a batch_normalization node, which cannot be shared; shareable layers: dense, activation, layer_normalization, .*add/,
    ],
    ['softmax inside the graph', withNodes([{ ...good.nodes[0], activation: 'softmax' }, ...good.nodes.slice(1)]), /nodes\[0\]\.activation: softmax is only supported on an output node \(node 'h'\)/],
    ['an input named labels', { ...good, inputs: [{ name: 'labels', shape: [3] }, good.inputs[1]], nodes: [good.nodes[0], { ...good.nodes[1], inputs: ['labels', 'h'] }, good.nodes[2]] }, /inputs\[0\]\.name: 'labels' is reserved/],
    ['a negative loss weight', { ...good, outputs: [{ node: 'out', loss: { type: 'mse' }, lossWeight: -1 }] }, /outputs\[0\]\.lossWeight: expected a non-negative number, got -1/],
    ['no outputs', { ...good, outputs: [] }, /outputs: a model needs at least one output/],
  ];
  it.each(cases)('%s', (_name, spec, message) => {
    expect(() => parseSpec(spec)).toThrow(SpecError);
    expect(() => parseSpec(spec)).toThrow(message);
  });

  it('the good spec is good, and nodes may be written in any order', () => {
    expect(() => parseSpec(good)).not.toThrow();
    const reversed = parseSpec(withNodes([...good.nodes].reverse()));
    expect(interpret(reversed).predict({ a: [[1, 2, 3]], b: [[1, 2, 3, 4]] }).shape).toEqual([1, 1]);
  });
});

describe('the functional builder', () => {
  it('writes the graph form: several inputs, shared layers, merges, weighted outputs', () => {
    const wide = input([3], { name: 'wide' });
    const deep = input([4], { name: 'deep' });
    const encoder = dense(3, { name: 'encoder', activation: 'tanh' });
    const a = encoder.apply(deep);
    const b = encoder.apply(dense(4).apply(deep));
    const joined = concatenate([wide, add([a, b]), multiply([a, b])]);
    const out = dense(1).apply(joined);
    const aux = dense(2, { name: 'aux' }).apply(a);
    const spec = model({
      name: 'fn',
      inputs: [wide, deep],
      outputs: [
        { tensor: out, loss: losses.mse() },
        { tensor: aux, loss: losses.mae(), lossWeight: 0.3, name: 'side' },
      ],
      batchSize: 4,
    });
    expect(spec.nodes.map((n) => [n.name, n.type, n.inputs])).toEqual([
      ['encoder', 'dense', ['deep']],
      ['dense', 'dense', ['deep']],
      ['encoder_1', 'apply', ['dense']],
      ['add', 'add', ['encoder', 'encoder_1']],
      ['multiply', 'multiply', ['encoder', 'encoder_1']],
      ['concatenate', 'concatenate', ['wide', 'add', 'multiply']],
      ['dense_1', 'dense', ['concatenate']],
      ['aux', 'dense', ['encoder']],
    ]);
    expect(spec.outputs).toEqual([
      { node: 'dense_1', name: 'dense_1', loss: { type: 'mse', weight: 1, reduction: 'mean' }, lossWeight: 1 },
      { node: 'aux', name: 'side', loss: { type: 'mae', weight: 1, reduction: 'mean' }, lossWeight: 0.3 },
    ]);
    // Plain data: the JSON round trip is the same spec.
    expect(parseSpec(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
    expect(Object.keys(interpret(spec).getWeights())).not.toContain('encoder_1.weight');
  });

  it('residualBlock expands to primitive layers, with a projection where the width changes', () => {
    const x = input([6], { name: 'x' });
    const h = residualBlock(residualBlock(x, 8, { name: 'r1' }), 8, { name: 'r2', batchNormalization: false });
    const spec = model({ inputs: [x], outputs: [{ tensor: activation('softmax').apply(dense(3).apply(h)), loss: losses.sparseCategoricalCrossentropy() }] });
    const types = Object.fromEntries(spec.nodes.map((n) => [n.name, n.type]));
    expect(types).toMatchObject({ r1_dense1: 'dense', r1_bn1: 'batch_normalization', r1_projection: 'dense', r1_add: 'add', r2_add: 'add', r2_out: 'activation' });
    expect(types['r2_projection']).toBeUndefined();
    expect(types['r2_bn1']).toBeUndefined();
    const r2add = spec.nodes.find((n) => n.name === 'r2_add')!;
    expect(r2add.inputs).toEqual(['r2_dense2', 'r1_out']);
    const lines = formatSummary(summarize(spec));
    expect(lines.find((l) => l.startsWith('r1_add'))).toMatch(/add\s+\[N, 8\]\s+r1_bn2, r1_projection\s+0$/);
  });

  it('layers stay plain data for Sequential models', () => {
    const layer = dense(2, { activation: 'relu' });
    expect(JSON.parse(JSON.stringify(layer))).toEqual({ type: 'dense', units: 2, activation: 'relu' });
    const spec = sequential({ input: input([3], { name: 'features' }), layers: [layer, dense(1)], loss: losses.mse() });
    expect(spec.input).toEqual({ name: 'features', shape: [3] });
  });

  it('an unused input given to model() is reported', () => {
    const x = input([2], { name: 'x' });
    const extra = input([2], { name: 'extra' });
    expect(() => model({ inputs: [x, extra], outputs: [{ tensor: dense(1).apply(x), loss: losses.mse() }] })).toThrow(/inputs\[1\]: input 'extra' is unused/);
  });
});
