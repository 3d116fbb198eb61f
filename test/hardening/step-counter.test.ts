// The step counter is an integer in both executors: a u32 in the trainer's memory (an f32 stopped
// at 2²⁴ = 16,777,216, where t + 1 rounds to t: dropout masks then repeated every step and
// schedules froze), a float64 integer in the interpreter. Past 2²⁴ both still count, draw the
// same masks, and a checkpoint keeps the count.
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.ts';
import { interpret, type Interpreter } from '../../compiler/interpret/interpreter.ts';
import { STEP } from '../../runtime/ports.ts';
import { encodeSafetensors, decodeSafetensors } from '../../runtime/safetensors.ts';
import { loadCheckpoint, saveCheckpoint } from '../../runtime/checkpoint.ts';
import type { Trainer } from '../../runtime/trainer.ts';

const spec = {
  name: 'counter',
  input: { shape: [4] },
  layers: [
    { type: 'dense', name: 'hidden', units: 12, activation: 'tanh' },
    { type: 'dropout', rate: 0.4 },
    { type: 'dense', name: 'out', units: 2 },
  ],
  loss: { type: 'mse' },
  optimizer: { type: 'adam', learningRate: 0.01, schedule: { type: 'exponential', decaySteps: 1000, decayRate: 0.5 } },
  batchSize: 4,
  seed: 23,
};
const x = [
  [0.1, -0.2, 0.3, 0.4],
  [0.5, 0.6, -0.7, 0.8],
];
const y = [
  [1, 0],
  [0, 1],
];
const BIG = 2 ** 24;

const counter = (t: Trainer): number => t.views.state[STEP]![0]!;
const setCounter = (t: Trainer, value: number): void => void (t.views.state[STEP]![0] = value);
/** The interpreter's own step counter (not part of its public surface). */
const interpreterCounter = (i: Interpreter): { data: Float64Array } =>
  (i as unknown as { impl: { state: Map<string, { data: Float64Array }> } }).impl.state.get(STEP)!;

describe('the step counter', () => {
  it('is a u32 in the manifest and the views', async () => {
    const trainer = await compile(spec, { simd: 'baseline' });
    expect(trainer.manifest.buffers.state.find((p) => p.name === STEP)!.dtype).toBe('u32');
    expect(trainer.views.state[STEP]).toBeInstanceOf(Uint32Array);
  });

  it('keeps counting past 2^24 (an f32 counter stayed at 16777216)', async () => {
    const trainer = await compile(spec, { simd: 'baseline' });
    setCounter(trainer, BIG);
    for (let i = 0; i < 3; i++) trainer.trainStep(x, y);
    expect(counter(trainer)).toBe(BIG + 3);
  });

  it('draws a new dropout mask at every step past 2^24, the same as the interpreter', async () => {
    const trainer = await compile(spec, { simd: 'baseline' });
    const interpreter = interpret(spec);
    const grads = (t: number): [number[], number[]] => {
      setCounter(trainer, t);
      interpreterCounter(interpreter).data[0] = t;
      return [Array.from(trainer.gradients(x, y).grads['hidden.weight']!.data), Array.from(interpreter.gradients(x, y).grads['hidden.weight']!.data)];
    };
    const [a, aRef] = grads(BIG + 1);
    const [b, bRef] = grads(BIG + 2);
    expect(a).not.toEqual(b);
    a.forEach((v, i) => expect(v).toBeCloseTo(aRef[i]!, 5));
    b.forEach((v, i) => expect(v).toBeCloseTo(bRef[i]!, 5));
  });

  it('a checkpoint keeps a count past 2^24; one from an f32-counter trainer still loads', async () => {
    const trainer = await compile(spec, { simd: 'baseline' });
    setCounter(trainer, BIG + 5);
    const bytes = await saveCheckpoint(trainer);
    expect(decodeSafetensors(bytes).tensors.get(`optimizer.${STEP}`)!.dtype).toBe('U32');
    const fresh = await compile(spec, { simd: 'baseline' });
    await loadCheckpoint(fresh, bytes);
    expect(counter(fresh)).toBe(BIG + 5);
    // An older file: the count as F32.
    const file = decodeSafetensors(bytes);
    const legacy = new Map(file.tensors);
    legacy.set(`optimizer.${STEP}`, { dtype: 'F32', shape: [1], data: new Uint8Array(Float32Array.of(1234).buffer) });
    await loadCheckpoint(fresh, encodeSafetensors(legacy));
    expect(counter(fresh)).toBe(1234);
    legacy.set(`optimizer.${STEP}`, { dtype: 'F32', shape: [1], data: new Uint8Array(Float32Array.of(2.5).buffer) });
    await expect(loadCheckpoint(fresh, encodeSafetensors(legacy))).rejects.toThrow(/optimizer state 'optimizer\.optimizer:step' element 0 is 2\.5, not a step count/);
    expect(counter(fresh)).toBe(1234);
  });
});
