// Checking a weights record against the model's parameters, all of it before any of it is
// written, so a rejected record leaves the model as it was.
import { InputError } from './errors.ts';
import type { ParamSpec } from './manifest.ts';
import { F32_MAX, flattenNested, isFiniteF32, nonFiniteText, product, shapeProblem, shapeText, show, type TensorLike } from './tensor.ts';

/** Flat values of a typed array or a plain array of numbers, checked to be numbers. */
function flatValues(data: unknown, what: string): Float64Array {
  if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array) return Float64Array.from(data);
  if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer) {
    throw new InputError(`${what}: data is ${show(data)}; expected a Float32Array, Float64Array, Int32Array or an array of numbers`);
  }
  if (!Array.isArray(data)) throw new InputError(`${what}: data is ${show(data)}, not an array of numbers`);
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v: unknown = data[i];
    if (typeof v !== 'number') throw new InputError(`${what}: element ${i} is ${show(v)}, not a number`);
    out[i] = v;
  }
  return out;
}

function toValues(param: ParamSpec, value: TensorLike): Float64Array {
  const size = product(param.shape);
  const what = `weights '${param.name}' (shape ${shapeText(param.shape)})`;
  let data: Float64Array;
  if (typeof value === 'number') {
    if (size !== 1) throw new InputError(`${what}: got a single number`);
    data = Float64Array.of(value);
  } else if (ArrayBuffer.isView(value) || (value as unknown) instanceof ArrayBuffer) {
    data = flatValues(value, what);
    if (data.length !== size) throw new InputError(`${what}: got ${data.length} values, expected ${size}`);
  } else if (Array.isArray(value)) {
    const out: number[] = [];
    try {
      flattenNested(value, param.shape, param.name, out);
    } catch (err) {
      throw new InputError(`${what}: ${(err as Error).message}`);
    }
    data = Float64Array.from(out);
  } else if (typeof value === 'object' && value !== null && 'shape' in value && 'data' in value) {
    const problem = shapeProblem(value.shape);
    if (problem) throw new InputError(`${what}: ${problem}`);
    if (shapeText(value.shape) !== shapeText(param.shape)) throw new InputError(`${what}: got a tensor of shape ${shapeText(value.shape)}`);
    data = flatValues(value.data, what);
    // The shape is right; the data must fill it exactly (5 values for [3] used to overrun, 1 to leave zeros).
    if (data.length !== size) throw new InputError(`${what}: the tensor's data has ${data.length} values, its shape needs ${size}`);
  } else {
    throw new InputError(`${what}: expected nested arrays, a typed array or a tensor, got ${show(value)}`);
  }
  // Checked as the float32 the model stores: 1e39 would become +Infinity there.
  for (let i = 0; i < data.length; i++) {
    if (!isFiniteF32(data[i]!)) throw new InputError(`${what}: element ${i} is ${nonFiniteText(data[i]!)}; weights must be finite in float32 (|x| ≤ ${F32_MAX})`);
  }
  return data;
}

/** Every parameter must be given, and nothing else. Returns the values by name. */
export function checkWeights(params: readonly ParamSpec[], record: unknown): Map<string, Float64Array> {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new InputError(`weights: expected a record keyed by parameter name (${params.map((p) => p.name).join(', ')})`);
  }
  const given = record as Record<string, TensorLike>;
  const known = new Set(params.map((p) => p.name));
  const unknown = Object.keys(given).filter((k) => !known.has(k));
  if (unknown.length) {
    throw new InputError(`weights: unknown parameter(s) ${unknown.map((k) => `'${k}'`).join(', ')}; the model has ${[...known].join(', ')}`);
  }
  const missing = params.filter((p) => !(p.name in given)).map((p) => `'${p.name}'`);
  if (missing.length) throw new InputError(`weights: missing parameter(s) ${missing.join(', ')}`);
  return new Map(params.map((p) => [p.name, toValues(p, given[p.name]!)]));
}
