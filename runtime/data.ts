// Turning what the caller hands us (nested arrays, flat typed arrays, tensors) into checked
// row-major rows, once per call, stored as the engine stores them: a typed array of the engine's
// type goes straight through (checked, not copied); nested arrays are converted in one pass into
// one typed array. Every complaint names the tensor, the row and the column, and is raised before
// any value reaches the model.
import { InputError } from './errors.ts';
import type { TensorSpec } from './manifest.ts';
import { F32_MAX, flattenNested, nonFiniteText, product, rowWidth, shapeProblem, show, type Feed, type TensorLike } from './tensor.ts';

/** Flat row-major values as an engine reads them. */
export type RowData = Float32Array | Float64Array | Int32Array;

/**
 * How an engine stores inputs and targets: 'float32' (the compiled trainer: Float32Array, or
 * Int32Array for an i32 tensor) or 'float64' (the interpreter: Float64Array for every tensor).
 */
export type Precision = 'float32' | 'float64';

export interface Rows {
  readonly rows: number;
  /** Values per row. */
  readonly width: number;
  /** The values in the engine's storage type (see Precision). */
  readonly data: RowData;
  /** Targets whose float32 storage rounded them: the values as given, which metrics compare predictions with. */
  readonly given?: Float64Array;
}

type RowArray = { new (length: number): RowData; new (values: ArrayLike<number>): RowData };

/** The typed array `spec`'s rows are stored in by an engine of `precision`. */
function storageOf(spec: TensorSpec, precision: Precision): RowArray {
  if (precision === 'float64') return Float64Array;
  return spec.dtype === 'i32' ? Int32Array : Float32Array;
}

function describe(spec: TensorSpec, kind: string): string {
  return `${kind} '${spec.name}'`;
}

/**
 * Where element i of rows of `sample`-shaped values sits, for messages: the column of a row of
 * values, or the index within the sample where a sample has more than one axis ([steps, width]).
 */
function position(i: number, sample: readonly number[]): string {
  const width = product(sample);
  if (width === 1) return `row ${i}`;
  const row = `row ${Math.floor(i / width)}`;
  if (sample.length === 1) return `${row}, column ${i % width}`;
  const index: number[] = [];
  let rest = i % width;
  for (let axis = sample.length - 1; axis >= 0; axis--) {
    index.unshift(rest % sample[axis]!);
    rest = Math.floor(rest / sample[axis]!);
  }
  return `${row}, index [${index.join(', ')}]`;
}

/** Finite in float32, as the trainer stores it (1e39 is +Infinity there and would make every result NaN), and with `classes` an integer in [0, classes). */
function valueFits(v: number, classes: number | undefined): boolean {
  return Number.isFinite(Math.fround(v)) && (classes === undefined || (Number.isInteger(v) && v >= 0 && v < classes));
}

/** Index of the first value that does not fit (see valueFits), or -1. */
function firstMisfit(values: ArrayLike<number>, classes: number | undefined): number {
  // Plain loops, no callbacks: this runs on every value of every call.
  // Float32 values fit when they are finite: one fast pass, and the one below only to say where.
  if (classes === undefined && values instanceof Float32Array && allFinite(values)) return -1;
  for (let i = 0; i < values.length; i++) if (!valueFits(values[i]!, classes)) return i;
  return -1;
}

/**
 * No NaN or ±Infinity among float32 values. JavaScript reads them as float64, where a sum of four
 * finite float32 values is finite (it cannot overflow) and 0 times it is 0, while NaN or ±Inf
 * anywhere in it makes the product NaN, which sticks in the running sum. One float64 add per four
 * values: this pass over a whole data set runs on every fit call (a third faster than testing
 * each value's exponent bits, measured on 1,003,520 values).
 */
function allFinite(values: Float32Array): boolean {
  let zero = 0;
  const end = values.length & ~3;
  for (let i = 0; i < end; i += 4) zero += (values[i]! + values[i + 1]! + values[i + 2]! + values[i + 3]!) * 0;
  for (let i = end; i < values.length; i++) zero += values[i]! * 0;
  return zero === 0;
}

function misfitError(what: string, kind: 'input' | 'labels', i: number, v: number, sample: readonly number[], classes: number | undefined): InputError {
  if (!Number.isFinite(Math.fround(v))) return new InputError(`${what}: ${position(i, sample)} is ${nonFiniteText(v)}; values must be finite in float32 (|x| ≤ ${F32_MAX})`);
  return new InputError(`${what}: ${position(i, sample)} is ${v}, expected ${kind === 'input' ? 'a token id' : 'a class index'} in [0, ${classes})`);
}

/** Elements where two arrays of the same length differ. */
function differs(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return true;
  return false;
}

/**
 * Flattens and checks rows of `spec` (batch-first shape), stored for an engine of `precision`.
 * `classes` marks integers in [0, classes): class labels, or an input's token ids.
 */
export function toRows(value: TensorLike, spec: TensorSpec, kind: 'input' | 'labels', classes?: number, precision: Precision = 'float64'): Rows {
  const what = describe(spec, kind);
  const width = rowWidth(spec.shape);
  const sample = spec.shape.slice(1) as number[];
  const Store = storageOf(spec, precision);
  // Targets that float32 storage may round are read in float64 first: metrics see them as given.
  const Read: RowArray = kind === 'labels' && Store === Float32Array ? Float64Array : Store;
  let flat: RowData;
  // Nested arrays are checked while they are read; the first value that does not fit is reported
  // once the whole structure has been read, so a malformed row anywhere is named first.
  let misfit = -1;
  let misfitValue = 0;
  if (value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array) {
    if (value.length % width !== 0) throw new InputError(`${what}: ${value.length} values do not make whole rows of ${width}`);
    flat = value;
  } else if (ArrayBuffer.isView(value) || (value as unknown) instanceof ArrayBuffer) {
    throw new InputError(`${what}: got ${show(value)}; expected a Float32Array, Float64Array or Int32Array (wrap bytes as new Float32Array(buffer)), an array of rows or a tensor`);
  } else if (Array.isArray(value)) {
    if (value.length > 0 && Array.isArray(value[0])) {
      flat = new Read(value.length * width);
      for (let r = 0; r < value.length; r++) {
        const given: unknown = value[r];
        if (!Array.isArray(given)) throw new InputError(`${what}: row ${r} is not an array`);
        // A sample of an image or sequence input may come nested, as Keras takes it ([h][w][c]).
        const row: readonly unknown[] = sample.length > 1 && Array.isArray(given[0]) ? nestedSample(given, sample, `${what}: sample ${r}`) : given;
        if (row.length !== width) throw new InputError(`${what}: row ${r} has ${row.length} values, expected ${width}`);
        for (let c = 0; c < width; c++) {
          const v: unknown = row[c];
          if (typeof v !== 'number') throw new InputError(`${what}: row ${r}, column ${c} is ${show(v)}, not a number`);
          flat[r * width + c] = v;
          if (misfit < 0 && !valueFits(v, classes)) {
            misfit = r * width + c;
            misfitValue = v;
          }
        }
      }
    } else {
      if (width !== 1) {
        throw new InputError(`${what}: expected rows of ${width} values (an array of arrays), got a flat array; wrap one sample as [[...]]`);
      }
      flat = new Read(value.length);
      for (let r = 0; r < value.length; r++) {
        const v: unknown = value[r];
        if (typeof v !== 'number') throw new InputError(`${what}: row ${r} is ${show(v)}, not a number`);
        flat[r] = v;
        if (misfit < 0 && !valueFits(v, classes)) {
          misfit = r;
          misfitValue = v;
        }
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
    flat = tensorValues(value.data, what, sample);
    // The shape is fine; a wrong count of values is the data's fault, and said so.
    if (flat.length !== rows * width) throw new InputError(`${what}: the tensor's data has ${flat.length} values, its shape [${value.shape.join(', ')}] needs ${rows * width}`);
  } else {
    throw new InputError(`${what}: expected an array of rows, a typed array or a tensor, got ${show(value)}`);
  }
  const rows = flat.length / width;
  if (rows === 0) throw new InputError(`${what}: no rows`);
  // Nested and flat arrays were checked as they were read; typed arrays and tensors' data here.
  if (flat === value || !Array.isArray(value)) {
    misfit = firstMisfit(flat, classes);
    if (misfit >= 0) misfitValue = flat[misfit]!;
  }
  if (misfit >= 0) throw misfitError(what, kind, misfit, misfitValue, sample, classes);
  if (flat instanceof Store) return { rows, width, data: flat };
  const data = new Store(flat);
  return kind === 'labels' && differs(data, flat) ? { rows, width, data, given: flat instanceof Float64Array ? flat : Float64Array.from(flat) } : { rows, width, data };
}

/** One sample given as nested arrays of its shape, flattened row-major. */
function nestedSample(sample: readonly unknown[], shape: readonly number[], path: string): number[] {
  const flat: number[] = [];
  flattenNested(sample, shape, path, flat);
  return flat;
}

/** The values of a tensor's `data`: a Float32/Float64/Int32Array as it is, an array of numbers read into float64 (checked after, as given). */
function tensorValues(data: unknown, what: string, sample: readonly number[]): RowData {
  if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array) return data;
  if (!Array.isArray(data)) throw new InputError(`${what}: the tensor's data is ${show(data)}; expected a Float32Array, Float64Array, Int32Array or an array of numbers`);
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v: unknown = data[i];
    if (typeof v !== 'number') throw new InputError(`${what}: ${position(i, sample)} is ${show(v)}, not a number`);
    out[i] = v;
  }
  return out;
}

/**
 * Copies rows [start, start+count) of `from` (rows of `source.width` values; default
 * `source.data`), in the order given by `order` when present, to the start of `into`. Between
 * typed arrays of different types each value converts as a typed-array store converts it.
 */
export function gatherRows(source: Rows, start: number, count: number, order: Uint32Array | undefined, into: RowData, from: RowData = source.data): void {
  const w = source.width;
  if (!order) {
    into.set(from.subarray(start * w, (start + count) * w));
    return;
  }
  if (w < 16) {
    // Narrow rows value by value (a block copy per row would allocate a view per row), in a loop of
    // their own types: loads and stores that meet one type each compile to plain memory accesses;
    // one loop for every type would be compiled polymorphic, with a type dispatch per value.
    if (from instanceof Float32Array && into instanceof Float32Array) gatherFloat32(from, into, start, count, order, w);
    else if (from instanceof Int32Array && into instanceof Int32Array) gatherInt32(from, into, start, count, order, w);
    else if (into instanceof Float64Array) gatherIntoFloat64(from, into, start, count, order, w);
    else gatherConverting(from, into, start, count, order, w);
    return;
  }
  for (let i = 0; i < count; i++) {
    const at = order[start + i]! * w;
    into.set(from.subarray(at, at + w), i * w);
  }
}

function gatherFloat32(from: Float32Array, into: Float32Array, start: number, count: number, order: Uint32Array, w: number): void {
  for (let i = 0; i < count; i++) {
    const at = order[start + i]! * w;
    for (let c = 0; c < w; c++) into[i * w + c] = from[at + c]!;
  }
}

function gatherInt32(from: Int32Array, into: Int32Array, start: number, count: number, order: Uint32Array, w: number): void {
  for (let i = 0; i < count; i++) {
    const at = order[start + i]! * w;
    for (let c = 0; c < w; c++) into[i * w + c] = from[at + c]!;
  }
}

/** Targets as fit's metrics read them (StepLabels), or an interpreter's rows. */
function gatherIntoFloat64(from: RowData, into: Float64Array, start: number, count: number, order: Uint32Array, w: number): void {
  for (let i = 0; i < count; i++) {
    const at = order[start + i]! * w;
    for (let c = 0; c < w; c++) into[i * w + c] = from[at + c]!;
  }
}

function gatherConverting(from: RowData, into: RowData, start: number, count: number, order: Uint32Array, w: number): void {
  for (let i = 0; i < count; i++) {
    const at = order[start + i]! * w;
    for (let c = 0; c < w; c++) into[i * w + c] = from[at + c]!;
  }
}

/** Rows [start, start+count) of `rows`, in the order given by `order` when present, as a new array of their storage type. */
export function takeRows(source: Rows, start: number, count: number, order?: Uint32Array): RowData {
  const out = new (source.data.constructor as RowArray)(count * source.width);
  gatherRows(source, start, count, order, out);
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
 * Stored for an engine of `precision`.
 */
export function namedRows(
  value: Feed,
  specs: readonly TensorSpec[],
  names: readonly string[],
  kind: 'input' | 'labels',
  classes: readonly (number | undefined)[] = [],
  precision: Precision = 'float64',
): Rows[] {
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
  const rows = values.map((v, k) => toRows(v, specs[k]!, kind, classes[k], precision));
  rows.forEach((r, k) => {
    if (r.rows !== rows[0]!.rows) throw new InputError(`${what}: '${names[k]}' has ${r.rows} rows, '${names[0]}' has ${rows[0]!.rows}`);
  });
  return rows;
}
