// The functional API's values: symbolic tensors (a model input or a layer's output) and layers that
// can be applied to them. Applying a layer checks its input shapes at once, through the layer's own
// shape rule, as Keras does; `model()` (model/functional.ts) turns the result into the graph form.
import type { z } from 'zod';
import { SpecError } from '../model/spec_error.ts';
import { arityOf, batchedText, LayerShapeError, optionsSchema, type AnyLayerDef, type FeatureShape } from './layer.ts';

/** The plain data of a layer in a spec: its type, an optional name and its options. */
export interface LayerData {
  readonly type: string;
  readonly name?: string;
}

export type Source =
  | { readonly kind: 'input'; readonly name: string | undefined; readonly dtype?: 'float32' | 'int32' }
  | { readonly kind: 'layer'; readonly layer: LayerData; readonly inputs: readonly SymbolicTensor[]; readonly name: string | undefined };

/**
 * A tensor of a model being built: a model input or a layer's output. Its `shape` and `name` also
 * make it a Sequential model's `input`.
 */
export class SymbolicTensor {
  constructor(
    /** The per-sample shape: every axis but the batch. */
    readonly shape: FeatureShape,
    readonly source: Source,
  ) {}

  /** Features per row: the last axis. */
  get width(): number {
    return this.shape.at(-1)!;
  }

  get name(): string | undefined {
    return this.source.name;
  }

  /** A model input's element type (token ids are 'int32'); layer outputs are float32. */
  get dtype(): 'float32' | 'int32' | undefined {
    return this.source.kind === 'input' ? this.source.dtype : undefined;
  }
}

/** A layer that can be applied to symbolic tensors: what dense(), add(), ... return. Plain data besides. */
export type Applicable<D extends LayerData = LayerData> = D & {
  /**
   * Applies the layer (a merge layer to a list of tensors). Applying the same layer object again
   * shares its parameters.
   */
  apply(input: SymbolicTensor | readonly SymbolicTensor[], options?: { readonly name?: string }): SymbolicTensor;
};

/** What a user may write for a layer of `def`: its options with their defaults optional, and a name. */
export type LayerInputOf<S extends z.ZodRawShape, T extends string = string> = { readonly type: T; readonly name?: string } & z.input<z.ZodObject<S>>;

/**
 * The layer `data` of `def`, with a non-enumerable `apply`: the layer stays plain data for JSON
 * and the Sequential form. Its shape rule runs on each application, with the options the spec
 * parser would give it (defaults filled in); a bad option or shape is a SpecError naming the layer.
 */
export function applicable<D extends LayerData>(def: AnyLayerDef, data: D): Applicable<D> {
  const apply = (input: SymbolicTensor | readonly SymbolicTensor[], options: { readonly name?: string } = {}): SymbolicTensor => {
    const inputs: readonly SymbolicTensor[] = input instanceof SymbolicTensor ? [input] : [...input];
    const label = options.name ?? data.name ?? def.type;
    const fail = (message: string): never => {
      throw new SpecError(`invalid model: layer '${label}' (${def.type}): ${message}`);
    };
    return new SymbolicTensor(outputShapeOf(def, data, inputs.map((t) => t.shape), fail), { kind: 'layer', layer: data, inputs, name: options.name });
  };
  Object.defineProperty(data, 'apply', { enumerable: false, value: apply });
  return data as Applicable<D>;
}

/** The output shape of `def` on `inputs`, every complaint (options, arity, shapes) passed to `fail`. */
function outputShapeOf(def: AnyLayerDef, data: LayerData, inputs: readonly FeatureShape[], fail: (message: string) => never): FeatureShape {
  const { min, max } = arityOf(def);
  if (inputs.length < min || (max !== undefined && inputs.length > max)) {
    fail(max === 1 ? `reads one input, given ${inputs.length}` : `reads at least ${min} inputs, given ${inputs.length}`);
  }
  const { type: _type, name: _name, ...given } = data as LayerData & Record<string, unknown>;
  let options: Record<string, unknown> = given;
  // Only the defaults matter here: parseSpec reports bad options with their paths.
  try {
    options = optionsSchema(def).parse(given);
  } catch {
    return inputs[0] ?? [];
  }
  try {
    return def.outputShape(options, inputs);
  } catch (e) {
    if (e instanceof LayerShapeError) return fail(`${e.message}; given ${inputs.map(batchedText).join(', ')}`);
    throw e;
  }
}
