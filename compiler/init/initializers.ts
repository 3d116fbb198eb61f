// Keras's initializers: the names and options a spec may give, and their reduction to four seeded
// draws (fill, uniform, normal, truncated normal) that assembly/init.ts implements bit for bit
// the same way. Values are rounded to float32, so the interpreter and the compiled trainer start
// from identical weights.
//
// Formulas are Keras's: every fan-scaled initializer is variance_scaling(scale, mode,
// distribution) with s = scale / max(1, n), n = fan_in, fan_out or their mean;
// uniform: U(−√(3s), √(3s)); truncated_normal: σ = √s / 0.8796… redrawn beyond 2σ (so the
// variance is s); untruncated_normal: σ = √s.
import { z } from 'zod';
import { Rng } from '../../runtime/prng.ts';
import type { ParamInfo } from '../model/lower.ts';
import { byNameOrObject, rejectForeignOptions } from '../model/options.ts';
import { f32Number, f32Positive } from '../model/numbers.ts';

export const initializerNames = [
  'zeros',
  'ones',
  'constant',
  'random_normal',
  'random_uniform',
  'truncated_normal',
  'glorot_uniform',
  'glorot_normal',
  'he_uniform',
  'he_normal',
  'lecun_uniform',
  'lecun_normal',
  'variance_scaling',
] as const;
export type InitializerName = (typeof initializerNames)[number];

const InitializerName = z.enum(initializerNames, {
  error: (iss) => `unknown initializer ${JSON.stringify(iss.input)}; expected one of ${initializerNames.join(', ')}`,
});

/** Which option each initializer takes; any other is rejected, naming the field. */
const OPTIONS: Readonly<Record<string, readonly InitializerName[]>> = {
  value: ['constant'],
  mean: ['random_normal', 'truncated_normal'],
  stddev: ['random_normal', 'truncated_normal'],
  minval: ['random_uniform'],
  maxval: ['random_uniform'],
  scale: ['variance_scaling'],
  mode: ['variance_scaling'],
  distribution: ['variance_scaling'],
};

const InitializerObject = z
  .strictObject({
    type: InitializerName,
    value: f32Number.optional(),
    mean: f32Number.optional(),
    stddev: f32Positive.optional(),
    minval: f32Number.optional(),
    maxval: f32Number.optional(),
    scale: f32Positive.optional(),
    mode: z.enum(['fan_in', 'fan_out', 'fan_avg'], { error: 'expected "fan_in", "fan_out" or "fan_avg"' }).optional(),
    distribution: z
      .enum(['truncated_normal', 'normal', 'untruncated_normal', 'uniform'], {
        error: 'expected "truncated_normal" (or its Keras alias "normal"), "untruncated_normal" or "uniform"',
      })
      .optional(),
  })
  .superRefine((init, ctx) => {
    rejectForeignOptions(init, ctx, OPTIONS);
    if ((init.minval ?? -0.05) >= (init.maxval ?? 0.05)) ctx.addIssue({ code: 'custom', path: ['maxval'], message: 'maxval must exceed minval' });
  });

/** `"he_normal"` or `{ "type": "constant", "value": 0.1 }`; a name is read as `{ "type": name }`, so errors name the option. */
export const Initializer = byNameOrObject(InitializerObject);
/** What a spec or the builder may write. */
export type InitializerInput = InitializerName | z.input<typeof InitializerObject>;
export type InitializerSpec = z.output<typeof Initializer>;

/** A draw the trainer's init() performs for one parameter tensor. */
export type Draw =
  | { readonly kind: 'fill'; readonly value: number }
  /** center + limit·(2u − 1), u uniform in [0, 1). */
  | { readonly kind: 'uniform'; readonly limit: number; readonly center: number }
  | { readonly kind: 'normal'; readonly mean: number; readonly stddev: number }
  /** mean + stddev·z, z a standard normal redrawn until |z| ≤ 2. */
  | { readonly kind: 'truncated_normal'; readonly mean: number; readonly stddev: number };

/** Keras: the standard deviation of a standard normal truncated at ±2, which truncated draws divide by. */
export const TRUNCATION_STD = 0.87962566103423978;

type Mode = 'fan_in' | 'fan_out' | 'fan_avg';
type Distribution = 'truncated_normal' | 'normal' | 'untruncated_normal' | 'uniform';

function varianceScaling(param: ParamInfo, scale: number, mode: Mode, distribution: Distribution): Draw {
  const n = Math.max(1, mode === 'fan_in' ? param.fanIn : mode === 'fan_out' ? param.fanOut : (param.fanIn + param.fanOut) / 2);
  switch (distribution) {
    case 'uniform':
      // √(3·scale / n) in that order: glorot_uniform's √(6 / (fan_in + fan_out)) to the last bit.
      return { kind: 'uniform', limit: Math.sqrt((3 * scale) / n), center: 0 };
    case 'untruncated_normal':
      return { kind: 'normal', mean: 0, stddev: Math.sqrt(scale / n) };
    case 'normal': // Keras's legacy alias
    case 'truncated_normal':
      return { kind: 'truncated_normal', mean: 0, stddev: Math.sqrt(scale / n) / TRUNCATION_STD };
  }
}

export function drawOf(param: ParamInfo): Draw {
  const init = param.init;
  switch (init.type) {
    case 'zeros':
      return { kind: 'fill', value: 0 };
    case 'ones':
      return { kind: 'fill', value: 1 };
    case 'constant':
      return { kind: 'fill', value: init.value ?? 0 };
    case 'random_normal':
      return { kind: 'normal', mean: init.mean ?? 0, stddev: init.stddev ?? 0.05 };
    case 'truncated_normal':
      // Keras's TruncatedNormal: stddev is the untruncated normal's, not corrected.
      return { kind: 'truncated_normal', mean: init.mean ?? 0, stddev: init.stddev ?? 0.05 };
    case 'random_uniform': {
      const lo = init.minval ?? -0.05;
      const hi = init.maxval ?? 0.05;
      return { kind: 'uniform', limit: (hi - lo) / 2, center: (hi + lo) / 2 };
    }
    case 'glorot_uniform':
      return varianceScaling(param, 1, 'fan_avg', 'uniform');
    case 'glorot_normal':
      return varianceScaling(param, 1, 'fan_avg', 'truncated_normal');
    case 'he_uniform':
      return varianceScaling(param, 2, 'fan_in', 'uniform');
    case 'he_normal':
      return varianceScaling(param, 2, 'fan_in', 'truncated_normal');
    case 'lecun_uniform':
      return varianceScaling(param, 1, 'fan_in', 'uniform');
    case 'lecun_normal':
      return varianceScaling(param, 1, 'fan_in', 'truncated_normal');
    case 'variance_scaling':
      return varianceScaling(param, init.scale ?? 1, init.mode ?? 'fan_in', init.distribution ?? 'truncated_normal');
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
        out[i] = draw.center + draw.limit * (2 * rng.uniform() - 1);
        break;
      case 'normal':
        out[i] = draw.mean + draw.stddev * rng.normal();
        break;
      case 'truncated_normal':
        out[i] = draw.mean + draw.stddev * rng.truncatedNormal();
        break;
    }
  }
  return out.map(Math.fround);
}
