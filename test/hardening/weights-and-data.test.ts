// setWeights and every call that takes data (predict, evaluate, gradients, trainStep) check all
// of their input — shapes, lengths, element types, finiteness in float32 — before one value is
// written. A refusal is an InputError naming the tensor (and row and column for data), and it
// leaves weights, optimizer state and step count bit-identical. Both executors.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.ts';
import { interpret } from '../../compiler/interpret/interpreter.ts';
import { InputError } from '../../runtime/errors.ts';
import type { ModelRunner } from '../../runtime/runner.ts';
import { FUZZ_SEED, fuzzRuns, snapshot } from './fuzz.ts';

const spec = {
  name: 'hardening_io',
  input: { shape: [3] },
  layers: [
    { type: 'dense', name: 'hidden', units: 4, activation: 'relu' },
    { type: 'dense', name: 'out', units: 2, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  optimizer: { type: 'adam', learningRate: 0.01 },
  batchSize: 4,
};
const x = [
  [0.1, 0.2, 0.3],
  [0.4, 0.5, 0.6],
];
const y = [0, 1];

type Model = ModelRunner<Float32Array | Float64Array>;

const engines: [string, () => Promise<Model>][] = [
  ['compiled', async () => (await compile(spec, { simd: 'baseline' })) as unknown as Model],
  ['interpreted', async () => interpret(spec) as unknown as Model],
];

describe.each(engines)('%s model', (_kind, make) => {
  let model: Model;
  beforeAll(async () => {
    model = await make();
    model.trainStep(x, y); // optimizer state and step count are not zero
  });

  const plain = (): Record<string, { shape: readonly number[]; data: number[] }> =>
    Object.fromEntries(Object.entries(model.getWeights()).map(([k, v]) => [k, { shape: v.shape, data: Array.from(v.data) }]));

  const refused: [string, () => unknown, RegExp][] = [
    ['a tensor with too few values (was written as [5, 0, 0, 0])', () => model.setWeights({ ...plain(), 'out.bias': { shape: [2], data: [5] } }), /weights 'out\.bias' \(shape \[2\]\): the tensor's data has 1 values, its shape needs 2/],
    ['a tensor with too many values (was a RangeError after earlier tensors were written)', () => model.setWeights({ ...plain(), 'hidden.weight': { shape: [4, 3], data: plain()['hidden.weight']!.data.map((v) => v + 1) }, 'out.bias': { shape: [2], data: [1, 2, 3, 4, 5] } } as never), /weights 'out\.bias' \(shape \[2\]\): the tensor's data has 5 values, its shape needs 2/],
    ['a weight of 1e39 (+Infinity in float32)', () => model.setWeights({ ...plain(), 'out.bias': [0, 1e39] }), /weights 'out\.bias' \(shape \[2\]\): element 1 is 1e\+39, which is Infinity in float32; weights must be finite in float32/],
    ['a BigInt weight', () => model.setWeights({ ...plain(), 'out.bias': { shape: [2], data: [1n, 2n] } } as never), /weights 'out\.bias' \(shape \[2\]\): element 0 is 1n \(a BigInt\), not a number/],
    ['a fractional shape', () => model.setWeights({ ...plain(), 'out.bias': { shape: [2.5], data: [1, 2] } }), /weights 'out\.bias' \(shape \[2\]\): shape \[2\.5\]: entry 0 is 2\.5, not a non-negative integer/],
    ['a bare ArrayBuffer as weights', () => model.setWeights({ ...plain(), 'out.bias': new ArrayBuffer(8) } as never), /weights 'out\.bias' \(shape \[2\]\): data is an ArrayBuffer of 8 bytes/],
    ['an input of 1e39 to predict', () => model.predict([[0, 0, 0], [0, 1e39, 0]]), /input 'x': row 1, column 1 is 1e\+39, which is Infinity in float32; values must be finite in float32/],
    ['an input of -1e39 to evaluate', () => model.evaluate([[0, 0, -1e39], [0, 0, 0]], y), /input 'x': row 0, column 2 is -1e\+39/],
    ['an input of 1e39 to gradients', () => model.gradients(Float64Array.of(0, 0, 0, 0, 0, 1e39), y), /input 'x': row 1, column 2 is 1e\+39/],
    ['an input of 1e39 to trainStep (was blamed on the loss)', () => model.trainStep([[1e39, 0, 0], [0, 0, 0]], y), /input 'x': row 0, column 0 is 1e\+39/],
    ['a BigInt input', () => model.predict([[0, 1n, 0]] as never), /input 'x': row 0, column 1 is 1n \(a BigInt\), not a number/],
    ['a bare ArrayBuffer input (was "\'x\' is missing")', () => model.predict(new ArrayBuffer(24) as never), /input 'x': got an ArrayBuffer of 24 bytes; expected a Float32Array/],
    ['a fractional row count (was half a row of zeros)', () => model.predict({ shape: [2.5, 3], data: new Float32Array(7.5 * 1) } as never), /input 'x': shape \[2\.5,3\]: entry 0 is 2\.5, not a non-negative integer/],
    ['a data length that does not fill the shape (was reported as a wrong shape)', () => model.predict({ shape: [2, 3], data: [1, 2, 3, 4, 5] }), /input 'x': the tensor's data has 5 values, its shape \[2, 3\] needs 6/],
  ];
  it.each(refused)('refuses %s and changes nothing', (_name, call, message) => {
    const before = snapshot(model);
    expect(call).toThrow(InputError);
    expect(call).toThrow(message);
    expect(snapshot(model)).toEqual(before);
  });

  it('init() starts the step count of NonFiniteError again', () => {
    expect(model.guard.steps).toBeGreaterThan(0);
    model.init();
    expect(model.guard.steps).toBe(0);
    model.trainStep(x, y);
    expect(model.guard.steps).toBe(1);
  });

  it('fuzz: random bad weights records are refused whole; good ones written exactly', () => {
    const outcomes = { accepted: 0, refused: 0 };
    const names = Object.keys(model.getWeights());
    const sizes = Object.fromEntries(Object.entries(model.getWeights()).map(([k, v]) => [k, { shape: v.shape, size: v.data.length }]));
    const finite = fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e30), max: Math.fround(1e30) });
    const bad = fc.oneof(fc.constantFrom(NaN, Infinity, -Infinity, 1e39, -3.5e38, 3.4028236e38), fc.double({ min: 3.5e38, max: 1e300 }));
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('value' as const), at: fc.nat(), value: bad }),
      fc.record({ kind: fc.constant('length' as const), delta: fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0) }),
      fc.record({ kind: fc.constant('shape' as const), dim: fc.oneof(fc.double({ min: 0.1, max: 9.9 }).filter((d) => !Number.isInteger(d)), fc.constantFrom(-1, NaN, '2' as unknown as number)) }),
      fc.record({ kind: fc.constantFrom('bigint' as const, 'string' as const, 'buffer' as const, 'missing' as const, 'extra' as const, 'null' as const, 'none' as const) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: names.length - 1 }), fc.integer({ min: 0, max: names.length - 1 }), mutation, fc.array(finite, { minLength: 64, maxLength: 64 }), (first, target, m, pool) => {
        const record: Record<string, unknown> = {};
        // The record's first tensors are good and would have been written before a half-write.
        names.forEach((name, k) => (record[name] = { shape: sizes[name]!.shape, data: pool.slice(k, k + sizes[name]!.size).concat(new Array(Math.max(0, k + sizes[name]!.size - pool.length)).fill(0)) }));
        const name = names[Math.max(first, target)]!;
        const { shape, size } = sizes[name]!;
        const t = record[name] as { shape: number[]; data: unknown[] };
        switch (m.kind) {
          case 'value': t.data[m.at % size] = m.value; break;
          case 'length': t.data = m.delta > 0 ? [...t.data, ...new Array(m.delta).fill(0)] : t.data.slice(0, Math.max(0, size + m.delta)); break;
          case 'shape': t.shape = [...shape.slice(0, -1), m.dim]; break;
          case 'bigint': t.data[0] = 1n; break;
          case 'string': t.data[0] = '1'; break;
          case 'buffer': record[name] = new ArrayBuffer(size * 4); break;
          case 'missing': delete record[name]; break;
          case 'extra': record[`${name}_extra`] = [1]; break;
          case 'null': record[name] = null; break;
          case 'none': break;
        }
        const before = snapshot(model);
        try {
          model.setWeights(record as never);
        } catch (err) {
          expect(err).toBeInstanceOf(InputError);
          expect((err as Error).message).toMatch(m.kind === 'missing' || m.kind === 'extra' ? /parameter/ : new RegExp(`'${name.replace('.', '\\.')}'`));
          expect(snapshot(model)).toEqual(before);
          outcomes.refused++;
          return;
        }
        expect(m.kind).toBe('none');
        const after = model.getWeights();
        for (const n of names) expect(Array.from(after[n]!.data)).toEqual((record[n] as { data: number[] }).data.map((v) => (after[n]!.data instanceof Float32Array ? Math.fround(v) : v)));
        outcomes.accepted++;
      }),
      { numRuns: fuzzRuns(300), seed: FUZZ_SEED },
    );
    console.info(`weights fuzz (${_kind}): ${outcomes.accepted + outcomes.refused} cases, ${outcomes.accepted} accepted and written exactly, ${outcomes.refused} refused with InputError, state unchanged`);
    expect(outcomes.refused).toBeGreaterThan(0);
  });

  it('fuzz: random bad data is refused naming tensor, row and column; state unchanged', () => {
    model.init(); // the weights fuzz leaves weights up to 1e30, which would diverge
    model.trainStep(x, y);
    const outcomes = { accepted: 0, refused: 0 };
    const call = fc.constantFrom('predict', 'evaluate', 'gradients', 'trainStep');
    const bad = fc.oneof(fc.constantFrom<unknown>(NaN, Infinity, -Infinity, 1e39, -1e39, 3.4028236e38, 1n, '0.5', null, undefined, [1]), fc.double({ min: 3.5e38, max: 1e308 }));
    fc.assert(
      fc.property(call, fc.integer({ min: 1, max: 4 }), fc.nat(), fc.option(bad, { freq: 4 }), fc.constantFrom('rows', 'typed', 'tensor'), (method, rows, at, value, form) => {
        const flat = Array.from({ length: rows * 3 }, (_, i) => (i % 7) / 7);
        const i = at % flat.length;
        const typedOk = typeof value === 'number';
        if (value !== null) (flat as unknown[])[i] = value;
        let feed: unknown;
        if (form === 'typed' && (value === null || typedOk)) feed = Float64Array.from(flat);
        else if (form === 'tensor') feed = { shape: [rows, 3], data: flat };
        else feed = Array.from({ length: rows }, (_, r) => flat.slice(r * 3, r * 3 + 3));
        const labels = Array.from({ length: rows }, (_, r) => r % 2);
        const before = snapshot(model);
        try {
          if (method === 'predict') model.predict(feed as never);
          else if (method === 'evaluate') model.evaluate(feed as never, labels);
          else if (method === 'gradients') model.gradients(feed as never, labels);
          else model.trainStep(feed as never, labels);
        } catch (err) {
          expect(err).toBeInstanceOf(InputError);
          const message = (err as Error).message;
          expect(message).toContain("input 'x'");
          if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string') expect(message).toContain(`row ${Math.floor(i / 3)}, column ${i % 3}`);
          expect(snapshot(model)).toEqual(before);
          outcomes.refused++;
          return;
        }
        expect(value === null || (typeof value === 'number' && Number.isFinite(Math.fround(value)))).toBe(true);
        outcomes.accepted++;
      }),
      { numRuns: fuzzRuns(300), seed: FUZZ_SEED },
    );
    console.info(`data fuzz (${_kind}): ${outcomes.accepted + outcomes.refused} cases, ${outcomes.accepted} accepted, ${outcomes.refused} refused with InputError naming input, row and column, state unchanged`);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});
