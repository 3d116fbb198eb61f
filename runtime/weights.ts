// Checking a weights record against the model's parameters, all of it before any of it is
// written, so a rejected record leaves the model as it was.
import { InputError } from './errors.ts';
import type { ParamSpec } from './manifest.ts';
import { product, shapeText, type TensorLike } from './tensor.ts';

function flattenNested(value: unknown, shape: readonly number[], path: string, out: number[]): void {
  if (shape.length === 0) {
    if (typeof value !== 'number') throw new InputError(`${path} is ${JSON.stringify(value)}, not a number`);
    out.push(value);
    return;
  }
  if (!Array.isArray(value)) throw new InputError(`${path} should be an array of ${shape[0]}, got ${JSON.stringify(value)}`);
  if (value.length !== shape[0]) throw new InputError(`${path} has length ${value.length}, expected ${shape[0]}`);
  value.forEach((v, i) => flattenNested(v, shape.slice(1), `${path}[${i}]`, out));
}

function toValues(param: ParamSpec, value: TensorLike): Float64Array {
  const size = product(param.shape);
  const what = `weights '${param.name}' (shape ${shapeText(param.shape)})`;
  let data: Float64Array;
  if (typeof value === 'number') {
    if (size !== 1) throw new InputError(`${what}: got a single number`);
    data = Float64Array.of(value);
  } else if (value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array) {
    if (value.length !== size) throw new InputError(`${what}: got ${value.length} values, expected ${size}`);
    data = Float64Array.from(value);
  } else if (Array.isArray(value)) {
    const out: number[] = [];
    try {
      flattenNested(value, param.shape, param.name, out);
    } catch (err) {
      throw new InputError(`${what}: ${(err as Error).message}`);
    }
    data = Float64Array.from(out);
  } else if (typeof value === 'object' && value !== null && 'shape' in value && 'data' in value) {
    if (shapeText(value.shape) !== shapeText(param.shape)) throw new InputError(`${what}: got a tensor of shape ${shapeText(value.shape)}`);
    data = Float64Array.from(value.data);
  } else {
    throw new InputError(`${what}: expected nested arrays, a typed array or a tensor`);
  }
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new InputError(`${what}: element ${bad} is ${data[bad]}; weights must be finite`);
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
