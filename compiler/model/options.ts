// One check shared by the vocabulary schemas whose entries take different options (activations,
// initializers): an option given to an entry that does not take it is an error naming the field.
import type { z } from 'zod';

/** `takers`: for each option, the entry types that accept it. */
export function rejectForeignOptions<T extends { readonly type: string }>(value: T, ctx: z.RefinementCtx, takers: Readonly<Record<string, readonly string[]>>): void {
  for (const [option, types] of Object.entries(takers)) {
    if ((value as Record<string, unknown>)[option] !== undefined && !types.includes(value.type)) {
      ctx.addIssue({ code: 'custom', path: [option], message: `only ${types.join(', ')} take${types.length === 1 ? 's' : ''} '${option}'` });
    }
  }
}
