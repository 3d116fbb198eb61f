// A model that cannot cross between nabla and another framework: the message names the layer (and
// its Keras class, or the field) and what nabla supports instead.
export class InteropError extends Error {
  override name = 'InteropError';
}
