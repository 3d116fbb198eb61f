/** A model spec that cannot be built; the message names the field (`layers[1].units`). */
export class SpecError extends Error {
  override name = 'SpecError';
}
