// The optimizer vocabulary as a spec: Keras's names and defaults (learning rate 0.01 for SGD,
// 0.001 for the adaptive ones; ε = 1e-7; AdamW's weight decay 0.004), plus the options every
// optimizer takes: a learning-rate schedule, gradient clipping (one of clipNorm, clipValue) and
// L2 weight decay.
import { z } from 'zod';
import { f32Epsilon, f32Fraction, f32NonNegative, f32Positive, positiveCount } from '../model/numbers.ts';
import { byNameOrObject } from '../model/options.ts';

// Every scalar is checked as the float32 the trainer computes with (see ../model/numbers.ts).
const positive = f32Positive;
const positiveInt = positiveCount();
const fraction = f32Fraction;

/** Learning rate as a function of the steps already taken t (0 on the first step), as Keras's schedules. */
export const Schedule = z.discriminatedUnion(
  'type',
  [
    /** lr · γ^⌊t / stepSize⌋ (PyTorch's StepLR). */
    z.strictObject({ type: z.literal('step'), stepSize: positiveInt, gamma: positive.default(0.1) }),
    /** lr · rate^(t / decaySteps), the exponent floored with staircase (Keras's ExponentialDecay). */
    z.strictObject({ type: z.literal('exponential'), decaySteps: positiveInt, decayRate: positive, staircase: z.boolean().default(false) }),
    /** lr · (α + (1 − α) · ½(1 + cos(π · min(t, T) / T))), T = decaySteps (Keras's CosineDecay). */
    z.strictObject({ type: z.literal('cosine'), decaySteps: positiveInt, alpha: z.number().min(0, { error: 'expected a number in [0, 1]' }).max(1, { error: 'expected a number in [0, 1]' }).default(0) }),
  ],
  { error: (iss) => `unknown schedule ${JSON.stringify((iss.input as { type?: unknown } | undefined)?.type)}; expected step, exponential or cosine` },
);
export type ScheduleSpec = z.output<typeof Schedule>;

const common = {
  schedule: Schedule.optional(),
  /** Rescale all gradients together so their global L2 norm is at most this (Keras's global_clipnorm). */
  clipNorm: positive.optional(),
  /** Clip every gradient element to [−clipValue, clipValue] (Keras's clipvalue). */
  clipValue: positive.optional(),
  /** Coupled L2 decay: adds l2·w to each gradient after clipping (PyTorch's weight_decay). */
  l2: f32NonNegative.optional(),
};
const adamMoments = {
  beta1: fraction.default(0.9),
  beta2: fraction.default(0.999),
  epsilon: f32Epsilon.default(1e-7),
};

export const optimizerNames = ['sgd', 'rmsprop', 'adam', 'adamw'] as const;

const OptimizerObject = z
  .discriminatedUnion(
    'type',
    [
      z.strictObject({ type: z.literal('sgd'), learningRate: positive.default(0.01), momentum: fraction.optional(), nesterov: z.boolean().optional(), ...common }),
      z.strictObject({ type: z.literal('rmsprop'), learningRate: positive.default(0.001), rho: fraction.default(0.9), epsilon: f32Epsilon.default(1e-7), ...common }),
      z.strictObject({ type: z.literal('adam'), learningRate: positive.default(0.001), ...adamMoments, ...common }),
      z.strictObject({ type: z.literal('adamw'), learningRate: positive.default(0.001), ...adamMoments, weightDecay: f32NonNegative.default(0.004), ...common }),
    ],
    {
      error: (iss) => {
        if (typeof iss.input !== 'object' || iss.input === null) return `expected an optimizer name (one of ${optimizerNames.join(', ')}) or an object { type, … }, got ${JSON.stringify(iss.input)}`;
        return `unknown optimizer ${JSON.stringify((iss.input as { type?: unknown }).type)}; expected one of ${optimizerNames.join(', ')}`;
      },
    },
  )
  .superRefine((o, ctx) => {
    if (o.clipNorm !== undefined && o.clipValue !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['clipValue'], message: 'give one of clipNorm and clipValue, as Keras allows one clipping' });
    }
    if (o.type === 'sgd' && o.nesterov && !o.momentum) ctx.addIssue({ code: 'custom', path: ['nesterov'], message: 'Nesterov needs a momentum > 0' });
  });
/** An optimizer: its object, or its name alone (as Keras's compile takes it), every option at its default. */
export const Optimizer = byNameOrObject(OptimizerObject);
export type OptimizerSpec = z.output<typeof OptimizerObject>;
/** What a spec may give for an optimizer. */
export type OptimizerInput = (typeof optimizerNames)[number] | z.input<typeof OptimizerObject>;
