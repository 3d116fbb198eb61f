// Turning what the caller hands us (nested arrays, flat typed arrays, tensors) into checked
// row-major float64 rows. Every complaint names the tensor, the row and the column, and is
// raised before any value reaches the model.
import { InputError } from './errors.ts';
import type { TensorSpec } from './manifest.ts';
import { F32_MAX, flattenNested, nonFiniteText, rowWidth, shapeProblem, show, type Feed, type TensorLike } from './tensor.ts';

export interface Rows {
  readonly rows: number;
  /** Values per row. */
  readonly width: number;
  readonly data: Float64Array;
}

function describe(spec: TensorSpec, kind: string): string {
  return `${kind} '${spec.name}'`;
}

/** Where element i of rows of `width` values sits, for messages. */
function position(i: number, width: number): string {
  return width === 1 ? `row ${i}` : `row ${Math.floor(i / width)}, column ${i % width}`;
}

/** Flattens and checks rows of `spec` (batch-first shape). `classes` marks integers in [0, classes): class labels, or an input's token ids. */
export function toRows(value: TensorLike, spec: TensorSpec, kind: 'input' | 'labels', classes?: number): Rows {
  const what = describe(spec, kind);
  const width = rowWidth(spec.shape);
  const sample = spec.shape.slice(1) as number[];
  let data: Float64Array;
  if (value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array) {
    if (value.length % width !== 0) throw new InputError(`${what}: ${value.length} values do not make whole rows of ${width}`);
    data = Float64Array.from(value);
  } else if (ArrayBuffer.isView(value) || (value as unknown) instanceof ArrayBuffer) {
    throw new InputError(`${what}: got ${show(value)}; expected a Float32Array, Float64Array or Int32Array (wrap bytes as new Float32Array(buffer)), an array of rows or a tensor`);
  } else if (Array.isArray(value)) {
    if (value.length > 0 && Array.isArray(value[0])) {
      data = new Float64Array(value.length * width);
      // Plain loops, no callbacks: this runs on every value of every step.
      for (let r = 0; r < value.length; r++) {
        const given: unknown = value[r];
        if (!Array.isArray(given)) throw new InputError(`${what}: row ${r} is not an array`);
        // A sample of an image or sequence input may come nested, as Keras takes it ([h][w][c]).
        const row: readonly unknown[] = sample.length > 1 && Array.isArray(given[0]) ? nestedSample(given, sample, `${what}: sample ${r}`) : given;
        if (row.length !== width) throw new InputError(`${what}: row ${r} has ${row.length} values, expected ${width}`);
        for (let c = 0; c < width; c++) {
          const v: unknown = row[c];
          if (typeof v !== 'number') throw new InputError(`${what}: row ${r}, column ${c} is ${show(v)}, not a number`);
          data[r * width + c] = v;
        }
      }
    } else {
      if (width !== 1) {
        throw new InputError(`${what}: expected rows of ${width} values (an array of arrays), got a flat array; wrap one sample as [[...]]`);
      }
      data = new Float64Array(value.length);
      for (let r = 0; r < value.length; r++) {
        const v: unknown = value[r];
        if (typeof v !== 'number') throw new InputError(`${what}: row ${r} is ${show(v)}, not a number`);
        data[r] = v;
      }
    }
  } else if (typeof value === 'object' && value !== null && 'shape' in value && 'data' in value) {
    const problem = shapeProblem(value.shape);
    if (problem) throw new InputError(`${what}: ${problem}`);
    const [rows, ...rest] = value.shape;
    const restSize = rest.reduce((a, b) => a * b, 1);
    if (restSize !== width || rows === undefined) {
      throw new InputError(`${what}: tensor of shape [${value.shape.join(', ')}] does not match [n, ${spec.shape.slice(1).join(', ')}]`);
    }
    data = tensorValues(value.data, what, width);
    // The shape is fine; a wrong count of values is the data's fault, and said so.
    if (data.length !== rows * width) throw new InputError(`${what}: the tensor's data has ${data.length} values, its shape [${value.shape.join(', ')}] needs ${rows * width}`);
  } else {
    throw new InputError(`${what}: expected an array of rows, a typed array or a tensor, got ${show(value)}`);
  }
  const rows = data.length / width;
  if (rows === 0) throw new InputError(`${what}: no rows`);
  // The message's position is built only on failure: this loop runs on every value of every step.
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // Finite in float32, as the trainer stores it: 1e39 is +Infinity there and would make every result NaN.
    if (!Number.isFinite(Math.fround(v))) throw new InputError(`${what}: ${position(i, width)} is ${nonFiniteText(v)}; values must be finite in float32 (|x| ≤ ${F32_MAX})`);
    if (classes !== undefined && (!Number.isInteger(v) || v < 0 || v >= classes)) {
      throw new InputError(`${what}: ${position(i, width)} is ${v}, expected ${kind === 'input' ? 'a token id' : 'a class index'} in [0, ${classes})`);
    }
  }
  return { rows, width, data };
}

/** One sample given as nested arrays of its shape, flattened row-major. */
function nestedSample(sample: readonly unknown[], shape: readonly number[], path: string): number[] {
  const flat: number[] = [];
  flattenNested(sample, shape, path, flat);
  return flat;
}

/** The values of a tensor's `data`: a Float32/Float64/Int32Array or an array of numbers. */
function tensorValues(data: unknown, what: string, width: number): Float64Array {
  if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array) return Float64Array.from(data);
  if (!Array.isArray(data)) throw new InputError(`${what}: the tensor's data is ${show(data)}; expected a Float32Array, Float64Array, Int32Array or an array of numbers`);
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v: unknown = data[i];
    if (typeof v !== 'number') throw new InputError(`${what}: ${position(i, width)} is ${show(v)}, not a number`);
    out[i] = v;
  }
  return out;
}

/** Rows [start, start+count) of `rows`, in the order given by `order` when present. */
export function takeRows(source: Rows, start: number, count: number, order?: Uint32Array): Float64Array {
  const out = new Float64Array(count * source.width);
  for (let i = 0; i < count; i++) {
    const r = order ? order[start + i]! : start + i;
    out.set(source.data.subarray(r * source.width, (r + 1) * source.width), i * source.width);
  }
  return out;
}

/** A record of named tensors, as opposed to one tensor (array, typed array, `{ shape, data }`). */
function isNamed(value: Feed): value is { readonly [name: string]: TensorLike } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value) &&
    !((value as unknown) instanceof ArrayBuffer) &&
    !('shape' in value && 'data' in value)
  );
}

/**
 * Checked rows of every tensor of `specs` (a model's inputs, or its outputs' labels), in their
 * order, from a record keyed by `names` or, with one tensor, the bare value. All must have the
 * same number of rows. `classes[k]`: integer class labels of tensor k in [0, classes[k]).
 */
export function namedRows(value: Feed, specs: readonly TensorSpec[], names: readonly string[], kind: 'input' | 'labels', classes: readonly (number | undefined)[] = []): Rows[] {
  const what = kind === 'input' ? 'inputs' : 'targets';
  let values: TensorLike[];
  if (isNamed(value)) {
    const unknown = Object.keys(value).find((key) => !names.includes(key));
    if (unknown !== undefined) throw new InputError(`${what}: '${unknown}' is not one of the model's ${what} (${names.join(', ')})`);
    values = names.map((name) => {
      const v = (value as { readonly [name: string]: TensorLike | undefined })[name];
      if (v === undefined) throw new InputError(`${what}: '${name}' is missing; the model's ${what} are ${names.join(', ')}`);
      return v;
    });
  } else {
    if (specs.length !== 1) throw new InputError(`${what}: the model has ${specs.length} ${what} (${names.join(', ')}); pass { ${names.map((n) => `${n}: ...`).join(', ')} }`);
    values = [value];
  }
  const rows = values.map((v, k) => toRows(v, specs[k]!, kind, classes[k]));
  rows.forEach((r, k) => {
    if (r.rows !== rows[0]!.rows) throw new InputError(`${what}: '${names[k]}' has ${r.rows} rows, '${names[0]}' has ${rows[0]!.rows}`);
  });
  return rows;
}
