// Callbacks with Keras's semantics. Each built-in is driven by a scripted sequence of monitored
// values: through a stand-in model (the rules alone), and through a compiled trainer, where a
// learningRateScheduler plays the script into the epoch log's `learningRate` so the callback
// under test sees it as it would a loss. Early stopping stops at the epoch the rule says and puts
// back the best epoch's weights bit for bit; reduceLROnPlateau's rate is read back from the
// trainer; modelCheckpoint's files load; hooks run in order; stopTraining ends fit.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { earlyStopping, learningRateScheduler, reduceLROnPlateau, type Callback, type TrainingModel } from '../runtime/callbacks.ts';
import { loadCheckpoint, modelCheckpoint } from '../runtime/checkpoint.ts';
import type { EpochLog } from '../runtime/history.ts';
import { fileCheckpoint, loadCheckpointFile } from '../runtime/node.ts';
import { loadTrainer, type Trainer } from '../runtime/trainer.ts';
import { randomClasses, randomMatrix } from './support/data.ts';

const spec = {
  input: { shape: [3] },
  layers: [
    { type: 'dense', name: 'hidden', units: 4, activation: 'tanh' },
    { type: 'dense', name: 'out', units: 2, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  optimizer: { type: 'sgd', learningRate: 0.1 },
  batchSize: 8,
  seed: 5,
};
const data = { x: randomMatrix(32, 3, 1), y: randomClasses(32, 2, 2) };

/** A stand-in model whose "weights" are the epoch that set them. */
function standIn(): TrainingModel & { epoch: number; restored: number | null } {
  const model = {
    signature: undefined as never,
    stopTraining: false,
    learningRate: 1,
    epoch: 0,
    restored: null as number | null,
    getWeights: () => ({ w: { shape: [1], data: Float64Array.of(model.epoch) } }),
    setWeights: (w: Record<string, { data: ArrayLike<number> }>) => (model.restored = w['w']!.data[0]!),
  };
  return model as unknown as TrainingModel & { epoch: number; restored: number | null };
}

/** Feeds `values` as valLoss to the callback, one epoch each, until it stops training; returns the epochs run. */
function play(callback: Callback, values: readonly number[], model = standIn()): number {
  for (let k = 0; k < values.length; k++) {
    model.epoch = k + 1;
    callback.onEpochEnd!({ epoch: k + 1, loss: 0, valLoss: values[k]!, seconds: 0 } as EpochLog, model);
    if (model.stopTraining) return k + 1;
  }
  return values.length;
}

describe('callback rules on scripted sequences', () => {
  it('earlyStopping: stops after `patience` epochs without an improvement beyond minDelta; restores the best', () => {
    const model = standIn();
    const stop = earlyStopping({ patience: 2, restoreBestWeights: true });
    expect(play(stop, [1, 0.5, 0.6, 0.55, 0.4], model)).toBe(4);
    expect([stop.bestEpoch, stop.stoppedEpoch, model.restored]).toEqual([2, 4, 2]);
    // 0.45 improves on 0.5 by less than minDelta 0.1: no improvement.
    expect(play(earlyStopping({ patience: 1, minDelta: 0.1 }), [1, 0.5, 0.45, 0.3])).toBe(3);
    // patience 0 stops at the first epoch (after the first) that does not improve; mode max for accuracies.
    expect(play(earlyStopping({ monitor: 'valLoss', mode: 'max' }), [0.1, 0.2, 0.3, 0.25])).toBe(4);
    // A baseline not beaten keeps the count going.
    expect(play(earlyStopping({ patience: 2, baseline: 0.1 }), [1, 0.5, 0.4, 0.3])).toBe(2);
  });

  it('reduceLROnPlateau: ×factor after `patience` flat epochs, then a cooldown, never below minLr', () => {
    const model = standIn();
    const reduce = reduceLROnPlateau({ factor: 0.5, patience: 2, cooldown: 1, minLr: 0.2 });
    const rates: number[] = [];
    for (const [k, v] of [1, 1, 1, 1, 1, 1, 1, 1].entries()) {
      reduce.onEpochEnd!({ epoch: k + 1, loss: 0, valLoss: v, seconds: 0 } as EpochLog, model);
      rates.push(model.learningRate);
    }
    // Epoch 1 sets the best; 2, 3 flat → 0.5 at 3; epoch 4 ends the cooldown and counts (as Keras);
    // 5 → 0.25; 6 ends the cooldown; 7 → 0.125, held at minLr 0.2.
    expect(rates).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2]);
    for (let k = 9; k < 20; k++) reduce.onEpochEnd!({ epoch: k, loss: 0, valLoss: 1, seconds: 0 } as EpochLog, model);
    expect(model.learningRate).toBe(0.2);
  });

  it('a monitor missing from the log is named, with what the log has', () => {
    expect(() => earlyStopping({ monitor: 'valAccuracy' }).onEpochEnd!({ epoch: 1, loss: 1, seconds: 0 }, standIn())).toThrow(
      /earlyStopping: monitor 'valAccuracy' is not in the epoch's log \(epoch, loss, seconds\); a val\* monitor needs validationSplit > 0/,
    );
  });
});

describe('callbacks on a compiled trainer', () => {
  let trainer: Trainer;
  beforeAll(async () => {
    trainer = await compile(spec, { simd: 'baseline' });
  }, 60_000);

  it('earlyStopping stops at the scripted epoch and restores that epoch’s weights bit for bit', () => {
    trainer.init();
    const script = [0.5, 0.3, 0.4, 0.45, 0.2, 0.1];
    const weights: Float32Array[][] = [];
    const record: Callback = { onEpochEnd: (_log, model) => void weights.push(Object.values(model.getWeights()).map((t) => Float32Array.from(t.data))) };
    const stop = earlyStopping({ monitor: 'learning_rate', patience: 2, restoreBestWeights: true });
    const history = trainer.fit(data, { epochs: 6, callbacks: [learningRateScheduler((epoch) => script[epoch]!), record, stop] });
    expect(history.epochs.map((e) => e.learningRate)).toEqual(script.slice(0, 4).map(Math.fround));
    expect([stop.bestEpoch, stop.stoppedEpoch]).toEqual([2, 4]);
    expect(Object.values(trainer.getWeights()).map((t) => t.data)).toEqual(weights[1]);
    expect(weights[3]).not.toEqual(weights[1]);
  });

  it('reduceLROnPlateau lowers the rate the trainer reads back', () => {
    trainer.init();
    const rates: number[] = [];
    // The rate is the monitored value and is only ever lowered: in mode max it never improves.
    trainer.fit(data, { epochs: 5, callbacks: [reduceLROnPlateau({ monitor: 'learningRate', mode: 'max', patience: 1, factor: 0.5 })], onEpochEnd: () => void rates.push(trainer.learningRate) });
    expect(rates[0]).toBe(Math.fround(0.1));
    for (let k = 1; k < rates.length; k++) expect(rates[k]).toBe(Math.fround(rates[k - 1]! * 0.5));
  });

  it('modelCheckpoint (with fitAsync) writes the best epochs; each file loads to that epoch’s weights', async () => {
    trainer.init();
    const script = [0.3, 0.2, 0.25, 0.1];
    const files: { epoch: number; bytes: Uint8Array }[] = [];
    const weights: Float32Array[][] = [];
    const record: Callback = { onEpochEnd: (_log, model) => void weights.push(Object.values(model.getWeights()).map((t) => Float32Array.from(t.data))) };
    const checkpoint = modelCheckpoint({ monitor: 'learningRate', saveBestOnly: true, write: (bytes, log) => void files.push({ epoch: log.epoch, bytes }) });
    await trainer.fitAsync(data, { epochs: 4, callbacks: [learningRateScheduler((epoch) => script[epoch]!), record, checkpoint] });
    expect(files.map((f) => f.epoch)).toEqual([1, 2, 4]);
    const fresh = await loadTrainer(trainer.module);
    for (const file of files) {
      const info = await loadCheckpoint(fresh, file.bytes);
      expect(Object.values(fresh.getWeights()).map((t) => t.data)).toEqual(weights[file.epoch - 1]);
      expect(fresh.learningRate).toBe(Math.fround(script[file.epoch - 1]!));
      expect(info.step).toBe(file.epoch * 4);
    }
    expect(() => trainer.fit(data, { callbacks: [modelCheckpoint({ write: () => {} })] })).toThrow(/a callback returned a promise, which fit\(\) cannot wait for; use fitAsync\(\)/);
  });

  it('fileCheckpoint writes {epoch} files atomically, each a checkpoint that loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nabla-file-checkpoint-'));
    try {
      trainer.init();
      await trainer.fitAsync(data, { epochs: 2, callbacks: [fileCheckpoint(join(dir, 'ckpt-{epoch}.safetensors'))] });
      expect(readdirSync(dir).sort()).toEqual(['ckpt-1.safetensors', 'ckpt-2.safetensors']);
      const fresh = await loadTrainer(trainer.module);
      expect((await loadCheckpointFile(join(dir, 'ckpt-2.safetensors'), fresh)).step).toBe(8);
      expect(Object.values(fresh.getWeights()).map((t) => t.data)).toEqual(Object.values(trainer.getWeights()).map((t) => t.data));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hooks run in order: epoch begin, batch begin/end per step, epoch end; stopTraining from a batch ends the epoch there', () => {
    trainer.init();
    const calls: string[] = [];
    const history = trainer.fit(data, {
      epochs: 3,
      onEpochBegin: (epoch) => void calls.push(`E${epoch}`),
      onBatchBegin: (batch) => void calls.push(`b${batch}`),
      onBatchEnd: (log, model) => {
        calls.push(`/b${log.batch}`);
        if (log.epoch === 2 && log.batch === 2) model.stopTraining = true;
      },
      onEpochEnd: (log) => void calls.push(`/E${log.epoch}`),
    });
    expect(calls.join(' ')).toBe('E1 b1 /b1 b2 /b2 b3 /b3 b4 /b4 /E1 E2 b1 /b1 b2 /b2 /E2');
    expect(history.epochs).toHaveLength(2);
    expect(trainer.guard.steps).toBe(6);
  });
});
