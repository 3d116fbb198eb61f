// Weights as the importers and exporters pass them: float32 tensors by nabla parameter name, in
// nabla's (PyTorch's) layouts; and the axis permutations between those and other frameworks'.
import { STATE_PREFIX } from '../../runtime/checkpoint.ts';
import { decodeSafetensors, encodeSafetensors, type StoredTensor } from '../../runtime/safetensors.ts';
import { product } from '../../runtime/tensor.ts';
import { InteropError } from './errors.ts';

export interface WeightTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}
export type Weights = ReadonlyMap<string, WeightTensor>;

/** What exporters accept: a trainer's or interpreter's getWeights(), or a decoded map. */
export type WeightsInput = Weights | Readonly<Record<string, { readonly shape: readonly number[]; readonly data: ArrayLike<number> }>>;

export function toWeights(input: WeightsInput): Weights {
  if (input instanceof Map) return input as Weights;
  return new Map(Object.entries(input).map(([name, t]): [string, WeightTensor] => [name, { shape: [...t.shape], data: Float32Array.from(t.data) }]));
}

/** Weight `name`, which must hold the values of `shape`; an InteropError names it otherwise. */
export function weightOf(weights: Weights, name: string, shape: readonly number[]): WeightTensor {
  const tensor = weights.get(name);
  if (tensor === undefined) throw new InteropError(`weights: '${name}' is missing`);
  if (tensor.data.length !== product(shape)) throw new InteropError(`weights: '${name}' has ${tensor.data.length} values, expected [${shape.join(', ')}]`);
  return tensor;
}

/** `data` of `shape` with its axes reordered: output axis i is input axis perm[i]. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  const outShape = perm.map((axis) => shape[axis]!);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, d) => a * d, 1));
  const index = new Array<number>(perm.length).fill(0);
  for (let k = 0; k < out.length; k++) {
    let source = 0;
    for (let i = 0; i < perm.length; i++) source += index[i]! * inStrides[perm[i]!]!;
    out[k] = data[source]!;
    for (let i = perm.length - 1; i >= 0; i--) {
      if (++index[i]! < outShape[i]!) break;
      index[i] = 0;
    }
  }
  return out;
}

/** The permutation that undoes `perm`. */
export const inversePermutation = (perm: readonly number[]): number[] => perm.map((_, i) => perm.indexOf(i));

/** Weights as a safetensors file of float32 tensors (what `--weights` and loadCheckpoint read). */
export function weightsToSafetensors(weights: Weights): Uint8Array<ArrayBuffer> {
  const tensors = new Map<string, StoredTensor>();
  for (const [name, t] of weights) tensors.set(name, { dtype: 'F32', shape: t.shape, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) });
  return encodeSafetensors(tensors);
}

/** The float32 tensors of a safetensors file; optimizer state (`optimizer.*`) is left out. */
export function weightsFromSafetensors(bytes: Uint8Array): Weights {
  const weights = new Map<string, WeightTensor>();
  for (const [name, t] of decodeSafetensors(bytes).tensors) {
    if (name.startsWith(STATE_PREFIX)) continue;
    if (t.dtype !== 'F32') throw new InteropError(`weights: tensor '${name}' is ${t.dtype}; nabla's weights are F32`);
    const copy = new Uint8Array(t.data);
    weights.set(name, { shape: t.shape, data: new Float32Array(copy.buffer, 0, copy.length / 4) });
  }
  return weights;
}
