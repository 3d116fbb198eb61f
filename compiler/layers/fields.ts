// The zod fields that layer options and the spec share, each with the message a user reads.
import { z } from 'zod';

export const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an identifier (letters, digits, _; not starting with a digit)' });

export const positiveInt = z.int({ error: 'expected an integer' }).positive({ error: 'expected a positive integer' });

/**
 * The most layers (Sequential) or nodes (graph form) a spec may hold. Compile time grows with
 * depth (each layer emits its own kernels), so a spec far beyond this is a mistake, refused before
 * any work rather than after hours of compiling.
 */
export const MAX_LAYERS = 10_000;

/** The most values one sample of a model input may hold (a 2048×2048×4 image): beyond it the arena cannot hold a batch. */
export const MAX_SAMPLE_SIZE = 1 << 24;

/** A model input's element type: float features, or integer token ids (read by embedding layers). */
export const inputDtype = z.enum(['float32', 'int32'], { error: "expected 'float32' or 'int32' (token ids, for embedding layers)" }).default('float32');
export type InputDtype = z.output<typeof inputDtype>;

/**
 * A model input's per-sample shape, channels last as in Keras: `[features]`, `[steps, features]`
 * or `[height, width, channels]`. The batch dimension is implicit.
 */
export const inputShape = z
  .array(positiveInt)
  .min(1, { error: 'expected [features], [steps, features] or [height, width, channels]' })
  .max(3, { error: 'expected [features], [steps, features] or [height, width, channels]: inputs have rank 1 to 3 per sample' })
  .refine((shape) => shape.reduce((a, d) => a * d, 1) <= MAX_SAMPLE_SIZE, { error: `more than ${MAX_SAMPLE_SIZE} values per sample` });
