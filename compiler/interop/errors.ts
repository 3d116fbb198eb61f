import type { DagNode } from '../model/dag.ts';
import { layerDefs } from '../layers/registry.ts';
import type { AnyLayerDef } from '../layers/layer.ts';
import { FormError } from '../layers/interop/types.ts';

// A model that cannot cross between nabla and another framework: the message names the layer (and
// its Keras class, or the field) and what nabla supports instead.
export class InteropError extends Error {
  override name = 'InteropError';
}

type Direction = 'keras' | 'torch' | 'onnx';

/**
 * The node's layer form for one direction (its definition's `keras`, `torch` or `onnx` field), or
 * an InteropError naming the layer, what it lacks (`what`) and the layer types that have it.
 */
export function formOf<K extends Direction>(node: DagNode, direction: K, what: string, suffix = ''): NonNullable<AnyLayerDef[K]> {
  const form = node.def[direction];
  if (form !== undefined) return form as NonNullable<AnyLayerDef[K]>;
  const having = layerDefs()
    .filter((d) => d[direction] !== undefined)
    .map((d) => d.type)
    .join(', ');
  throw new InteropError(`layer '${node.name}' (${node.def.type}) has no ${what}; nabla exports ${having}${suffix}`);
}

/** Runs a layer's export form; a FormError (options the form cannot express) becomes an InteropError naming the layer. */
export function namingLayer<T>(node: DagNode, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof FormError) throw new InteropError(`layer '${node.name}' (${node.def.type}): ${err.message}`);
    throw err;
  }
}
