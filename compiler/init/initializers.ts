// Keras's initializers, reduced to three seeded draws (fill, uniform, truncated normal) that
// assembly/init.ts implements bit for bit the same way. Values are rounded to float32, so the
// interpreter and the compiled trainer start from identical weights.
import { Rng } from '../../runtime/prng.ts';
import type { ParamInfo } from '../model/lower.ts';

/** A draw the trainer's init() performs for one parameter tensor. */
export type Draw =
  | { readonly kind: 'fill'; readonly value: number }
  | { readonly kind: 'uniform'; readonly limit: number }
  | { readonly kind: 'truncated_normal'; readonly stddev: number };

/** Keras: stddev of a normal truncated at 2σ, corrected for the truncation (0.8796… = its std). */
const TRUNCATION_STD = 0.87962566103423978;

export function drawOf(param: ParamInfo): Draw {
  const init = param.init;
  switch (init.type) {
    case 'zeros':
      return { kind: 'fill', value: 0 };
    case 'ones':
      return { kind: 'fill', value: 1 };
    case 'constant':
      return { kind: 'fill', value: init.value ?? 0 };
    case 'glorot_uniform':
      return { kind: 'uniform', limit: Math.sqrt(6 / (param.fanIn + param.fanOut)) };
    case 'he_normal':
      return { kind: 'truncated_normal', stddev: Math.sqrt(2 / param.fanIn) / TRUNCATION_STD };
  }
}

/** The PRNG stream of parameter k (in spec order). */
export const paramStream = (index: number): number => index;

export function initialValues(draw: Draw, size: number, seed: number, stream: number): Float64Array {
  const out = new Float64Array(size);
  const rng = new Rng(seed, stream);
  for (let i = 0; i < size; i++) {
    switch (draw.kind) {
      case 'fill':
        out[i] = draw.value;
        break;
      case 'uniform':
        out[i] = draw.limit * (2 * rng.uniform() - 1);
        break;
      case 'truncated_normal':
        out[i] = draw.stddev * rng.truncatedNormal();
        break;
    }
  }
  return out.map(Math.fround);
}
