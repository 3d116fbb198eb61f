// Hyperparameters in the arena: a learning rate (or AdamW weight decay) set at run time trains
// exactly as a trainer compiled with that value, in the compiled trainer (bit for bit) and in the
// interpreter (which runs the same graph in float64); a compiled schedule still scales it; the
// two engines agree after a change mid-training; checkpoints carry the value.
import { describe, expect, it } from 'vitest';
import { compile, compileToWasm } from '../compiler/compile.ts';
import { interpret } from '../compiler/interpret/interpreter.ts';
import { relativeDifference } from '../compiler/gradcheck/numerical.ts';
import { loadCheckpoint, saveCheckpoint } from '../runtime/checkpoint.ts';
import { decodeSafetensors, encodeSafetensors } from '../runtime/safetensors.ts';
import { loadTrainer } from '../runtime/trainer.ts';
import type { ModelRunner } from '../runtime/runner.ts';
import { optimizerBatch, optimizerModel } from './support/optimizer-model.ts';

const spec = optimizerModel;
const { x, y } = optimizerBatch;

function flat(runner: ModelRunner<Float32Array> | ModelRunner<Float64Array>): number[] {
  return Object.values(runner.getWeights()).flatMap((t) => Array.from(t.data));
}

function steps(runner: ModelRunner<Float32Array> | ModelRunner<Float64Array>, count: number): void {
  for (let s = 0; s < count; s++) runner.trainStep(x, y);
}

// AdamW with a cosine schedule: the rate is scaled by the schedule, and decay reads it too.
const compiledWith = { type: 'adamw', learningRate: 0.05, weightDecay: 0.1, schedule: { type: 'cosine', decaySteps: 8 } };
const setTo = { learningRate: 0.02, weightDecay: 0.3 };

describe('run-time hyperparameters', () => {
  it('set at run time, train as a trainer compiled with them (compiled bit for bit, interpreter exactly)', async () => {
    const reference = await compile(spec({ ...compiledWith, ...setTo }), { simd: 'baseline' });
    const trainer = await compile(spec(compiledWith), { simd: 'baseline' });
    expect(trainer.hyperparameters).toEqual({ learningRate: Math.fround(0.05), weightDecay: Math.fround(0.1) });
    trainer.learningRate = setTo.learningRate;
    trainer.setHyperparameter('weightDecay', setTo.weightDecay);
    steps(reference, 6);
    steps(trainer, 6);
    expect(flat(trainer)).toEqual(flat(reference));

    const interpreterReference = interpret(spec({ ...compiledWith, ...setTo }));
    const interpreter = interpret(spec(compiledWith));
    interpreter.learningRate = setTo.learningRate;
    interpreter.setHyperparameter('weightDecay', setTo.weightDecay);
    steps(interpreterReference, 6);
    steps(interpreter, 6);
    expect(flat(interpreter)).toEqual(flat(interpreterReference));
    // And the two engines agree, as every compiled trainer does with its interpreter.
    expect(relativeDifference(Float64Array.from(flat(trainer)), Float64Array.from(flat(interpreter)))).toBeLessThan(1e-5);
  });

  it('changed mid-training, the compiled trainer follows the interpreter; init() restores the spec value', async () => {
    const optimizer = { type: 'sgd', learningRate: 0.1, momentum: 0.9 };
    const trainer = await compile(spec(optimizer), { simd: 'baseline' });
    const interpreter = interpret(spec(optimizer));
    const before = flat(trainer);
    for (const runner of [trainer, interpreter]) {
      steps(runner, 3);
      runner.learningRate = 0.01;
      steps(runner, 3);
      runner.learningRate = 0;
    }
    const trained = flat(trainer);
    expect(relativeDifference(Float64Array.from(trained), Float64Array.from(before))).toBeGreaterThan(1e-3);
    expect(relativeDifference(Float64Array.from(trained), Float64Array.from(flat(interpreter)))).toBeLessThan(1e-5);
    expect(trainer.learningRate).toBe(0);
    trainer.init();
    expect(trainer.learningRate).toBe(Math.fround(0.1));
  });

  it('bad values and unknown names are refused, naming the hyperparameter', async () => {
    const interpreter = interpret(spec({ type: 'sgd', learningRate: 0.1 }));
    expect(() => (interpreter.learningRate = -1)).toThrow(/learningRate must be a finite number ≥ 0 \(in float32\), got -1/);
    expect(() => (interpreter.learningRate = Number.NaN)).toThrow(/learningRate must be a finite number ≥ 0/);
    expect(() => interpreter.setHyperparameter('learningRate', 1e39)).toThrow(/got 1e\+39/);
    expect(() => interpreter.setHyperparameter('weightDecay', 0.1)).toThrow(/has no hyperparameter 'weightDecay'; it has learningRate/);
    expect(interpreter.learningRate).toBe(0.1);
  });

  it('a checkpoint saves the learning rate and loading restores it; a weights-only file keeps the current one', async () => {
    const { wasm } = await compileToWasm(spec({ type: 'sgd', learningRate: 0.1 }), { simd: 'baseline' });
    const source = await loadTrainer(wasm);
    source.learningRate = 0.025;
    const bytes = await saveCheckpoint(source);
    const target = await loadTrainer(wasm);
    expect(target.learningRate).toBe(Math.fround(0.1));
    await loadCheckpoint(target, bytes);
    expect(target.learningRate).toBe(Math.fround(0.025));
    target.learningRate = 0.5;
    const weightsOnly = new Map([...decodeSafetensors(bytes).tensors].filter(([name]) => !name.startsWith('optimizer.')));
    await loadCheckpoint(target, encodeSafetensors(weightsOnly));
    expect(target.learningRate).toBe(0.5);
  });
});
