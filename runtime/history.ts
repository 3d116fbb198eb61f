// What fit() returns: one log per epoch. Its own module because the fit loop writes it and the
// non-finite guard's error carries it.
import type { Diagnostics } from './diagnostics.ts';
import type { Evaluation } from './engine.ts';

export interface EpochLog {
  /** 1-based. */
  readonly epoch: number;
  /** Mean training loss over the epoch's steps, weighted by rows (before each step's update). */
  readonly loss: number;
  /** Single-output classification models. */
  readonly accuracy?: number;
  readonly valLoss?: number;
  readonly valAccuracy?: number;
  /** Validation loss and accuracy of each output (models with several outputs). */
  readonly valOutputs?: Evaluation['outputs'];
  /** The base learning rate at the end of the epoch (trainers whose rate is a hyperparameter). */
  readonly learningRate?: number;
  /** The metrics fit was asked for, on the epoch's training steps (each step's predictions, before its update), by name; `<output>.<name>` with several outputs. */
  readonly metrics?: Readonly<Record<string, number>>;
  /** The same on the validation rows, after the epoch. */
  readonly valMetrics?: Readonly<Record<string, number>>;
  /** Gradient-flow telemetry averaged over the epoch's steps (trainers compiled with `diagnostics: true`). */
  readonly diagnostics?: Diagnostics;
  readonly seconds: number;
}

export interface History {
  readonly epochs: readonly EpochLog[];
}
