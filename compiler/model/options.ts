// What the vocabulary schemas share (activations, initializers, losses, optimizers): an option
// given to an entry that does not take it is an error naming the field, and an entry may be
// written as its name alone.
import { z } from 'zod';

/** `takers`: for each option, the entry types that accept it. */
export function rejectForeignOptions<T extends { readonly type: string }>(value: T, ctx: z.RefinementCtx, takers: Readonly<Record<string, readonly string[]>>): void {
  for (const [option, types] of Object.entries(takers)) {
    if ((value as Record<string, unknown>)[option] !== undefined && !types.includes(value.type)) {
      ctx.addIssue({ code: 'custom', path: [option], message: `only ${types.join(', ')} take${types.length === 1 ? 's' : ''} '${option}'` });
    }
  }
}

/**
 * An entry written as `{ type, ...options }` or, as Keras takes it, as its name alone: a name is
 * read as `{ type: name }` (every option at its default), so errors still name the option.
 */
export function byNameOrObject<T extends z.ZodType>(object: T) {
  return z.preprocess((value) => (typeof value === 'string' ? { type: value } : value), object);
}
