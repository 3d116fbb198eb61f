/** Bad data or weights from the caller. Thrown before anything is written: the model is untouched. */
export class InputError extends Error {
  override name = 'InputError';
}
