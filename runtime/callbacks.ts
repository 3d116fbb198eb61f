// Training callbacks with Keras's names and semantics: hooks at the start and end of every epoch
// and batch, `model.stopTraining` to end training, and the built-in callbacks earlyStopping,
// reduceLROnPlateau, learningRateScheduler and modelCheckpoint (keras.callbacks.*).
import { InputError } from './errors.ts';
import type { EpochLog, History } from './history.ts';
import type { Signature } from './manifest.ts';
import type { Tensor, TensorLike } from './tensor.ts';

/** The model as callbacks see it (a Trainer or an Interpreter). */
export interface TrainingModel {
  readonly signature: Signature;
  /** Set to true to end training after the current step (Keras's model.stop_training). */
  stopTraining: boolean;
  /** The base learning rate of the steps that follow (a compiled schedule multiplies it). */
  learningRate: number;
  getWeights(): Record<string, Tensor<Float32Array | Float64Array>>;
  setWeights(weights: Record<string, TensorLike>): void;
}

/** What onBatchEnd gets. */
export interface BatchLog {
  /** 1-based epoch and batch. */
  readonly epoch: number;
  readonly batch: number;
  /** Batches in an epoch. */
  readonly batches: number;
  /** Rows of this batch. */
  readonly size: number;
  /** This step's loss (before its update). */
  readonly loss: number;
  /** Mean loss of the epoch's steps so far, by rows. */
  readonly meanLoss: number;
}

/**
 * Hooks are called in the order the callbacks are listed. A hook may return a promise, which
 * fitAsync awaits before the next step (fit refuses it: use fitAsync); any other value is ignored.
 */
export interface Callback {
  /** `epoch` is 1-based. */
  onEpochBegin?(epoch: number, model: TrainingModel): unknown;
  onEpochEnd?(log: EpochLog, model: TrainingModel): unknown;
  onBatchBegin?(batch: number, model: TrainingModel): unknown;
  onBatchEnd?(log: BatchLog, model: TrainingModel): unknown;
  onTrainEnd?(history: History, model: TrainingModel): unknown;
}

/**
 * The value of `monitor` in an epoch's log: `loss`, `accuracy`, `valLoss`, `valAccuracy`,
 * `learningRate`, or a metric by name (`mae`, `valMae`); Keras's snake_case (`val_loss`) is accepted.
 */
export function monitored(log: EpochLog, monitor: string): number | undefined {
  const name = monitor.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const direct = (log as unknown as Record<string, unknown>)[name];
  if (typeof direct === 'number') return direct;
  const metric = name.startsWith('val') && name.length > 3 ? log.valMetrics?.[name[3]!.toLowerCase() + name.slice(4)] : log.metrics?.[name];
  return metric;
}

export type Mode = 'auto' | 'min' | 'max';

/** Keras's 'auto': accuracies, AUC, precision, recall and R² improve upward, the rest (losses, errors) downward. */
function direction(monitor: string, mode: Mode): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return /acc|auc|precision|recall|r2/i.test(monitor) ? 'max' : 'min';
}

/** `current` is better than `best` by more than minDelta, in the monitor's direction. */
function improves(current: number, best: number, minDelta: number, dir: 'min' | 'max'): boolean {
  return dir === 'min' ? current < best - minDelta : current > best + minDelta;
}

function read(log: EpochLog, monitor: string, who: string): number {
  const value = monitored(log, monitor);
  if (value === undefined) {
    const available = Object.entries(log).filter(([, v]) => typeof v === 'number').map(([k]) => k);
    throw new InputError(`${who}: monitor '${monitor}' is not in the epoch's log (${[...available, ...Object.keys(log.metrics ?? {}), ...Object.keys(log.valMetrics ?? {}).map((k) => `val${k[0]!.toUpperCase()}${k.slice(1)}`)].join(', ')}); a val* monitor needs validationSplit > 0`);
  }
  return value;
}

function count(value: number, what: string, who: string): number {
  if (!Number.isInteger(value) || value < 0) throw new InputError(`${who}: ${what} must be an integer ≥ 0, got ${value}`);
  return value;
}

export interface EarlyStoppingOptions {
  /** Default 'valLoss'. */
  readonly monitor?: string;
  /** Epochs with no improvement after which training stops. Default 0. */
  readonly patience?: number;
  /** A change of at most this is no improvement. Default 0. */
  readonly minDelta?: number;
  readonly mode?: Mode;
  /** On stopping, put back the weights of the best epoch. Default false. */
  readonly restoreBestWeights?: boolean;
  /** Stop unless the monitor beats this. */
  readonly baseline?: number;
}

/** Stops training when the monitored value has not improved for `patience` epochs (keras.callbacks.EarlyStopping). */
export function earlyStopping(options: EarlyStoppingOptions = {}): Callback & { readonly stoppedEpoch: number | null; readonly bestEpoch: number | null } {
  const who = 'earlyStopping';
  const monitor = options.monitor ?? 'valLoss';
  const patience = count(options.patience ?? 0, 'patience', who);
  const minDelta = Math.abs(options.minDelta ?? 0);
  const dir = direction(monitor, options.mode ?? 'auto');
  let best = options.baseline ?? (dir === 'min' ? Infinity : -Infinity);
  let wait = 0;
  let bestWeights: Record<string, TensorLike> | null = null;
  const state = { stoppedEpoch: null as number | null, bestEpoch: null as number | null };
  return {
    get stoppedEpoch() {
      return state.stoppedEpoch;
    },
    get bestEpoch() {
      return state.bestEpoch;
    },
    onEpochEnd(log, model) {
      const current = read(log, monitor, who);
      wait++;
      if (improves(current, best, minDelta, dir)) {
        best = current;
        state.bestEpoch = log.epoch;
        if (options.restoreBestWeights) bestWeights = model.getWeights();
        // A baseline not yet beaten keeps counting, as Keras.
        if (options.baseline === undefined || improves(current, options.baseline, 0, dir)) wait = 0;
        return;
      }
      if (wait >= patience && log.epoch > 1) {
        state.stoppedEpoch = log.epoch;
        model.stopTraining = true;
        if (options.restoreBestWeights && bestWeights) model.setWeights(bestWeights);
      }
    },
  };
}

export interface ReduceLROnPlateauOptions {
  /** Default 'valLoss'. */
  readonly monitor?: string;
  /** New rate = rate · factor. Default 0.1. */
  readonly factor?: number;
  /** Epochs with no improvement before the rate is reduced. Default 10. */
  readonly patience?: number;
  readonly mode?: Mode;
  /** Default 1e-4. */
  readonly minDelta?: number;
  /** Epochs to wait after a reduction before counting again. Default 0. */
  readonly cooldown?: number;
  /** The rate is never reduced below this. Default 0. */
  readonly minLr?: number;
}

/** Multiplies the learning rate by `factor` when the monitored value stops improving (keras.callbacks.ReduceLROnPlateau). */
export function reduceLROnPlateau(options: ReduceLROnPlateauOptions = {}): Callback {
  const who = 'reduceLROnPlateau';
  const monitor = options.monitor ?? 'valLoss';
  const factor = options.factor ?? 0.1;
  if (!(factor > 0 && factor < 1)) throw new InputError(`${who}: factor must be in (0, 1), got ${factor}`);
  const patience = count(options.patience ?? 10, 'patience', who);
  const cooldown = count(options.cooldown ?? 0, 'cooldown', who);
  const minDelta = options.minDelta ?? 1e-4;
  const minLr = options.minLr ?? 0;
  const dir = direction(monitor, options.mode ?? 'auto');
  let best = dir === 'min' ? Infinity : -Infinity;
  let wait = 0;
  let cooling = 0;
  return {
    onEpochEnd(log, model) {
      const current = read(log, monitor, who);
      if (cooling > 0) {
        cooling--;
        wait = 0;
      }
      if (improves(current, best, minDelta, dir)) {
        best = current;
        wait = 0;
      } else if (cooling === 0 && ++wait >= patience) {
        const rate = model.learningRate;
        if (rate > Math.fround(minLr)) {
          model.learningRate = Math.max(rate * factor, minLr);
          cooling = cooldown;
          wait = 0;
        }
      }
    },
  };
}

/** Sets the learning rate at the start of every epoch to schedule(epoch, rate), epoch 0-based as in Keras (keras.callbacks.LearningRateScheduler). */
export function learningRateScheduler(schedule: (epoch: number, rate: number) => number): Callback {
  return {
    onEpochBegin(epoch, model) {
      model.learningRate = schedule(epoch - 1, model.learningRate);
    },
  };
}

export interface ModelCheckpointOptions {
  /** Where each checkpoint goes: bytes of a safetensors file (saveCheckpoint's) and the epoch's log. */
  readonly write: (bytes: Uint8Array<ArrayBuffer>, log: EpochLog) => void | Promise<unknown>;
  /** Default 'valLoss'. */
  readonly monitor?: string;
  /** Only when the monitored value improves on the best so far. Default false: every epoch. */
  readonly saveBestOnly?: boolean;
  readonly mode?: Mode;
  /** Save every this many epochs. Default 1. */
  readonly every?: number;
}

/** What modelCheckpoint needs of a model: a Trainer's checkpoint bytes. */
export type Checkpointer = (model: TrainingModel, log: EpochLog) => Promise<Uint8Array<ArrayBuffer>>;

/**
 * Saves a checkpoint every epoch, or only the best (keras.callbacks.ModelCheckpoint). `save`
 * makes the bytes (runtime's modelCheckpoint passes saveCheckpoint); the promise it returns is
 * awaited by fitAsync. The weights are copied when the hook runs, so later steps cannot reach the file.
 */
export function checkpointCallback(save: Checkpointer, options: ModelCheckpointOptions): Callback {
  const who = 'modelCheckpoint';
  const monitor = options.monitor ?? 'valLoss';
  const every = options.every ?? 1;
  if (!Number.isInteger(every) || every < 1) throw new InputError(`${who}: every must be a positive integer, got ${every}`);
  const dir = direction(monitor, options.mode ?? 'auto');
  let best = dir === 'min' ? Infinity : -Infinity;
  return {
    onEpochEnd(log, model) {
      if (log.epoch % every !== 0) return;
      if (options.saveBestOnly) {
        const current = read(log, monitor, who);
        if (!improves(current, best, 0, dir)) return;
        best = current;
      }
      return save(model, log).then((bytes) => options.write(bytes, log));
    },
  };
}
