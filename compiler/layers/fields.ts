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
