// The activation vocabulary: what a spec may name, its options with their defaults, and the
// composition of primitives each one lowers to. Nothing here has its own gradient rule.
//
// Defaults: leaky_relu's alpha is 0.01 as in PyTorch (Keras's LeakyReLU layer uses 0.3; 0.01 is
// what most published networks mean by "leaky ReLU"); elu's alpha 1 and swish's beta 1 as in both;
// gelu is the exact erf form unless `approximate: true` (Keras's default, PyTorch's 'none').
import { z } from 'zod';
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';
import { rejectForeignOptions } from './options.ts';
import { f32Number } from './numbers.ts';

export const activationNames = [
  'linear',
  'sigmoid',
  'tanh',
  'relu',
  'softmax',
  'leaky_relu',
  'elu',
  'selu',
  'gelu',
  'swish',
  'silu',
  'softplus',
] as const;
export type ActivationName = (typeof activationNames)[number];

const ActivationName = z.enum(activationNames, {
  error: (iss) => `unknown activation ${JSON.stringify(iss.input)}; expected one of ${activationNames.join(', ')}`,
});

/** Which option each activation takes; any other is rejected, naming the field. */
const OPTIONS: Readonly<Record<string, readonly ActivationName[]>> = {
  alpha: ['leaky_relu', 'elu'],
  beta: ['swish'],
  approximate: ['gelu'],
};

/** `"relu"` or `{ "type": "leaky_relu", "alpha": 0.2 }`. The name form stays a name. */
export const Activation = z.union(
  [
    ActivationName,
    z
      .strictObject({ type: ActivationName, alpha: f32Number.optional(), beta: f32Number.optional(), approximate: z.boolean().optional() })
      .superRefine((a, ctx) => rejectForeignOptions(a, ctx, OPTIONS)),
  ],
  {
    error: (iss) => {
      const given = typeof iss.input === 'string' ? iss.input : (iss.input as { type?: unknown } | undefined)?.type;
      return typeof given === 'string' && !(activationNames as readonly string[]).includes(given)
        ? `unknown activation ${JSON.stringify(given)}; expected one of ${activationNames.join(', ')}`
        : 'expected an activation name or { "type": name, ...options } with alpha, beta (numbers) or approximate (boolean)';
    },
  },
);
export type ActivationSpec = z.output<typeof Activation>;

export function activationType(a: ActivationSpec): ActivationName {
  return typeof a === 'string' ? a : a.type;
}

function option(a: ActivationSpec, key: 'alpha' | 'beta', fallback: number): number {
  return typeof a === 'string' ? fallback : (a[key] ?? fallback);
}

/** SELU's constants (Klambauer et al. 2017), to the digits Keras and PyTorch use. */
export const SELU_ALPHA = 1.6732632423543772848170429916717;
export const SELU_SCALE = 1.0507009873554804934193349852946;

/** α(eˣ − 1) for x < 0, x above: max(x, 0) + α(e^min(x,0) − 1). exp never sees a positive argument. */
function elu(b: GraphBuilder, z: NodeId, alpha: number): NodeId {
  const negative = b.op('sub', [b.op('exp', [b.op('minimum', [z, b.constant(0)])]), b.constant(1)]);
  return b.op('add', [b.op('maximum', [z, b.constant(0)]), b.op('mul', [b.constant(alpha), negative])]);
}

/** The exact form is the gelu primitive; the tanh approximation (Hendrycks & Gimpel) stays composed. */
function gelu(b: GraphBuilder, z: NodeId, approximate: boolean): NodeId {
  if (!approximate) return b.op('gelu', [z]);
  // ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): at x → −∞ tanh → −1 exactly, so the value is (−0)·x, never NaN.
  const cube = b.op('mul', [z, b.op('mul', [z, z])]);
  const poly = b.op('add', [z, b.op('mul', [b.constant(0.044715), cube])]);
  const inner = b.op('tanh', [b.op('mul', [b.constant(Math.sqrt(2 / Math.PI)), poly])]);
  return b.op('mul', [b.op('mul', [b.constant(0.5), z]), b.op('add', [b.constant(1), inner])]);
}

export function activate(b: GraphBuilder, z: NodeId, activation: ActivationSpec): NodeId {
  const type = activationType(activation);
  switch (type) {
    case 'linear':
      return z;
    case 'sigmoid':
    case 'tanh':
    case 'relu':
    case 'softplus':
      return b.op(type, [z]);
    case 'softmax':
      // exp of log-softmax: the stable form, and the one the cross-entropy shares.
      return b.op('exp', [b.op('log_softmax', [z])]);
    case 'leaky_relu': {
      // max(x, αx) selects exactly; for α > 1 the larger branch is the wrong one, so min.
      const alpha = option(activation, 'alpha', 0.01);
      return b.op(alpha <= 1 ? 'maximum' : 'minimum', [z, b.op('mul', [b.constant(alpha), z])]);
    }
    case 'elu':
      return elu(b, z, option(activation, 'alpha', 1));
    case 'selu':
      return b.op('mul', [b.constant(SELU_SCALE), elu(b, z, SELU_ALPHA)]);
    case 'gelu':
      return gelu(b, z, typeof activation !== 'string' && activation.approximate === true);
    case 'swish':
    case 'silu': {
      const beta = type === 'swish' ? option(activation, 'beta', 1) : 1;
      const scaled = beta === 1 ? z : b.op('mul', [b.constant(beta), z]);
      return b.op('mul', [z, b.op('sigmoid', [scaled])]);
    }
  }
}
