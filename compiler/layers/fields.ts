// The zod fields that layer options and the spec share, each with the message a user reads.
import { z } from 'zod';

export const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an identifier (letters, digits, _; not starting with a digit)' });

export const positiveInt = z.int({ error: 'expected an integer' }).positive({ error: 'expected a positive integer' });

export const positiveNumber = z.number().positive({ error: 'expected a positive number' });

/** A probability or a momentum: in [0, 1). */
export const unitInterval = z.number().min(0, { error: 'expected a number in [0, 1)' }).lt(1, { error: 'expected a number in [0, 1)' });
