// A layer type added in one file (test/fixtures/scale_layer.ts) gets everything a built-in layer
// has: the spec schema with its options and defaults, the Sequential and functional builders, shape
// errors, lowering in both engines, its summary row, gradients checked three ways, and training.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { add, dense, input, losses, model, optimizers, sequential } from '../compiler/model/builder.ts';
import { parseSpec, SpecError, type SequentialSpec } from '../compiler/model/spec.ts';
import { formatSummary, summarize } from '../compiler/model/summary.ts';
import { registerLayer } from '../compiler/layers/registry.ts';
import { denseLayer } from '../compiler/layers/dense.ts';
import { scale, scaleLayer } from './fixtures/scale_layer.ts';
import { randomMatrix } from './support/data.ts';
import { expectThreeWayAgreement } from './support/three-way.ts';

const chain = (layers: unknown[]) => ({ input: { shape: [3] }, layers, loss: { type: 'mse' }, batchSize: 4 });

describe('a layer registered from one file', () => {
  it('is part of the spec schema, with its defaults and its own option errors', () => {
    const spec = parseSpec(chain([{ type: 'dense', units: 3 }, { type: 'scale' }])) as SequentialSpec;
    expect(spec.layers[1]).toEqual({ type: 'scale', name: 'scale', initial: 1 });
    expect(() => parseSpec(chain([{ type: 'scale', initial: 'big' }]))).toThrow(/layers\[0\]\.initial: expected a number/);
    expect(() => parseSpec(chain([{ type: 'scale', factor: 2 }]))).toThrow(/layers\[0\]: unknown field\(s\) 'factor'/);
    expect(() => parseSpec(chain([{ type: 'scales' }]))).toThrow(/unknown layer type "scales"; expected one of dense, .*dropout, .*scale/);
  });

  it('builds with the Sequential builder and the functional API, shared or not', () => {
    const seq = sequential({ input: input([3]), layers: [dense(2), scale({ initial: 2 })], loss: losses.mse() });
    expect(seq.layers.map((l) => l.type)).toEqual(['dense', 'scale']);

    const x = input([3], { name: 'x' });
    const shared = scale({ name: 'gain' });
    const y = add([shared.apply(x), shared.apply(dense(3).apply(x))]);
    const graph = model({ inputs: [x], outputs: [{ tensor: y, loss: losses.mse() }] });
    expect(graph.nodes.map((n) => [n.name, n.type])).toEqual([
      ['gain', 'scale'],
      ['dense', 'dense'],
      ['gain_1', 'apply'],
      ['add', 'add'],
    ]);
    expect(Object.keys(interpret(graph).getWeights())).toEqual(['gain.a', 'dense.weight', 'dense.bias']);
  });

  it('gets the shape checks every layer gets, naming the node', () => {
    const x = input([3], { name: 'x' });
    const gain = scale({ name: 'gain' });
    gain.apply(x);
    // A shared layer applies to the shape it was built for.
    const nodes = [
      { type: 'scale', name: 'gain', inputs: ['x'] },
      { type: 'dense', name: 'wide', units: 4, inputs: ['x'] },
      { type: 'apply', name: 'gain_1', layer: 'gain', inputs: ['wide'] },
      { type: 'concatenate', name: 'out', inputs: ['gain', 'gain_1'] },
    ];
    const spec = { inputs: [{ name: 'x', shape: [3] }], nodes, outputs: [{ node: 'out', loss: { type: 'mse' } }] };
    expect(() => parseSpec(spec)).toThrow(SpecError);
    expect(() => parseSpec(spec)).toThrow(/nodes\[2\]\.inputs\[0\]: layer 'gain' takes \[N, 3\], 'wide' is \[N, 4\] \(node 'gain_1'\)/);
    expect(() => add([scale().apply(x), dense(4).apply(x)])).toThrow(/layer 'add' \(add\): add needs inputs of one shape; given \[N, 3\], \[N, 4\]/);
    expect(() => parseSpec({ ...spec, nodes: [{ type: 'scale', name: 'gain', inputs: ['x', 'x'] }], outputs: [{ node: 'gain', loss: { type: 'mse' } }] })).toThrow(
      /nodes\[0\]\.inputs: a scale layer reads one input, given 2 \(node 'gain'\)/,
    );
  });

  it('lowers to the same values in the interpreter and the compiled trainer', async () => {
    const spec = chain([{ type: 'scale', name: 'gain', initial: 2.5 }]);
    const x = randomMatrix(4, 3, 1);
    for (const engine of [interpret(spec), await compile(spec)]) {
      expect(Array.from(engine.getWeights()['gain.a']!.data)).toEqual([2.5]);
      const got = Array.from(engine.predict(x).data);
      x.flat().forEach((v, i) => expect(got[i]).toBeCloseTo(2.5 * v, 6));
    }
  });

  it('has its summary row', () => {
    const lines = formatSummary(summarize(chain([{ type: 'dense', name: 'h', units: 4 }, { type: 'scale', name: 'gain', initial: 3 }])));
    expect(lines.find((l) => l.startsWith('gain'))).toMatch(/^gain\s+scale \(from 3\)\s+\[N, 4\]\s+1$/);
    expect(lines.at(-1)).toBe('total params: 17');
  });

  it('has gradients that agree three ways', async () => {
    const spec = chain([{ type: 'dense', units: 4, activation: 'tanh' }, { type: 'scale', initial: 0.7 }, { type: 'dense', units: 2 }]);
    const grads = await expectThreeWayAgreement(spec, randomMatrix(4, 3, 2), randomMatrix(4, 2, 3));
    expect(grads.grads['scale.a']!.shape).toEqual([]);
  });

  it('trains: a learns the factor that maps x to y', async () => {
    const x = randomMatrix(64, 3, 4);
    const y = x.map((row) => row.map((v) => -1.5 * v));
    const trainer = await compile(sequential({ input: input([3]), layers: [scale({ name: 'gain' })], loss: losses.mse(), optimizer: optimizers.sgd({ learningRate: 0.3 }), batchSize: 16 }));
    const history = trainer.fit({ x, y }, { epochs: 30, batchSize: 16 });
    expect(history.epochs.at(-1)!.loss).toBeLessThan(history.epochs[0]!.loss / 100);
    expect(trainer.getWeights()['gain.a']!.data[0]).toBeCloseTo(-1.5, 2);
  });

  it('cannot take a type that is already defined', () => {
    expect(() => registerLayer(denseLayer)).toThrow(/layer type 'dense' is already defined/);
    expect(() => registerLayer(scaleLayer)).toThrow(/layer type 'scale' is already defined/);
    expect(() => registerLayer({ ...scaleLayer, type: 'apply' })).toThrow(/already defined/);
  });

  it('can be removed again, and specs naming it are then refused', () => {
    const remove = registerLayer({ ...scaleLayer, type: 'scale_twice' });
    expect(() => parseSpec(chain([{ type: 'scale_twice' }]))).not.toThrow();
    remove();
    expect(() => parseSpec(chain([{ type: 'scale_twice' }]))).toThrow(/unknown layer type "scale_twice"/);
  });
});
