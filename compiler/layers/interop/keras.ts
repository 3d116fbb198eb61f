// What the layers' Keras mappings share: reading config fields with errors that name them, and the
// activation and initializer vocabularies in both directions. Keras 2, Keras 3 and TensorFlow.js
// write the same snake_case config fields; they differ in a few names, handled here.
import { activationType, type ActivationName, type ActivationSpec } from '../../model/activations.ts';
import type { InitializerSpec } from '../../init/initializers.ts';
import { KerasFieldError, type KerasConfig } from './types.ts';

/** A config field of the expected JavaScript type, or its default when absent or null. */
export function field<T extends number | boolean | string>(config: KerasConfig, key: string, kind: 'number' | 'boolean' | 'string', fallback?: T): T {
  const value = config[key];
  if (value === undefined || value === null) {
    if (fallback === undefined) throw new KerasFieldError(key, `missing ${key}`);
    return fallback;
  }
  if (typeof value !== kind) throw new KerasFieldError(key, `expected ${key} to be a ${kind}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** Refuses regularizers and constraints: nabla's training would silently differ from the model's. */
export function refuseExtras(config: KerasConfig, keys: readonly string[]): void {
  for (const key of keys) {
    const value = config[key];
    if (value !== undefined && value !== null) throw new KerasFieldError(key, `${key} is not supported (nabla has optimizer-wide l2 instead of per-layer regularizers and no constraints); remove it or set it to null`);
  }
}

/** The axis of a normalization or concatenation: the last one, the only one nabla's rank-1 rows have. */
export function lastAxis(config: KerasConfig, rank = 2): void {
  let axis = config['axis'];
  if (Array.isArray(axis) && axis.length === 1) axis = axis[0];
  if (axis === undefined || axis === null || axis === -1 || axis === rank - 1) return;
  throw new KerasFieldError('axis', `axis ${JSON.stringify(config['axis'])} is not supported: nabla works on the last (feature) axis, -1`);
}

/** Keras activation names, with TensorFlow.js's and Keras 3's spellings. */
const FROM_KERAS: Readonly<Record<string, ActivationSpec>> = {
  linear: 'linear',
  relu: 'relu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softmax: 'softmax',
  elu: 'elu',
  selu: 'selu',
  softplus: 'softplus',
  swish: 'swish',
  silu: 'silu',
  gelu: 'gelu',
  // TensorFlow.js's name for the tanh approximation.
  gelu_new: { type: 'gelu', approximate: true },
  // Keras 3's activation function, whose negative slope defaults to 0.2.
  leaky_relu: { type: 'leaky_relu', alpha: 0.2 },
};

export function activationFromKeras(config: KerasConfig, key = 'activation'): ActivationSpec {
  const name = config[key] ?? 'linear';
  if (typeof name !== 'string') throw new KerasFieldError(key, `expected ${key} to be an activation name, got ${JSON.stringify(name)}`);
  const spec = FROM_KERAS[name];
  if (spec === undefined) throw new KerasFieldError(key, `activation '${name}' has no nabla equivalent; supported: ${Object.keys(FROM_KERAS).join(', ')}`);
  return spec;
}

/** The TensorFlow.js activation name; those it cannot name are refused. */
export function activationToKeras(spec: ActivationSpec): string {
  const type = activationType(spec);
  const option = (key: 'alpha' | 'beta', standard: number): number => (typeof spec === 'string' ? standard : (spec[key] ?? standard));
  switch (type) {
    case 'linear':
    case 'relu':
    case 'sigmoid':
    case 'tanh':
    case 'softmax':
    case 'selu':
    case 'softplus':
      return type;
    case 'elu':
      if (option('alpha', 1) !== 1) break;
      return 'elu';
    case 'swish':
      if (option('beta', 1) !== 1) break;
      return 'swish';
    case 'silu':
      return 'swish';
    case 'gelu':
      // tfjs 4.22 saves its tanh approximation as 'gelu_new' but reads that name back as 'geluNew', which it does not know.
      if (typeof spec !== 'string' && spec.approximate) break;
      return 'gelu';
    case 'leaky_relu':
      break;
  }
  throw new KerasFieldError(
    'activation',
    `activation ${JSON.stringify(spec)} has no TensorFlow.js activation name that tfjs loads (it has leaky_relu only as a layer, elu and swish only with alpha/beta 1, gelu only exact)`,
  );
}

const INITIALIZER_CLASSES: Readonly<Record<InitializerSpec['type'], string>> = {
  zeros: 'Zeros',
  ones: 'Ones',
  constant: 'Constant',
  random_normal: 'RandomNormal',
  random_uniform: 'RandomUniform',
  truncated_normal: 'TruncatedNormal',
  glorot_uniform: 'GlorotUniform',
  glorot_normal: 'GlorotNormal',
  he_uniform: 'HeUniform',
  he_normal: 'HeNormal',
  lecun_uniform: 'LeCunUniform',
  lecun_normal: 'LeCunNormal',
  variance_scaling: 'VarianceScaling',
};
const INITIALIZER_OPTIONS = ['value', 'mean', 'stddev', 'minval', 'maxval', 'scale', 'mode', 'distribution'] as const;

/** `{ class_name: 'GlorotUniform', config: {...} }` (or Keras 3's string form) as a nabla initializer. */
export function initializerFromKeras(config: KerasConfig, key: string, fallback: InitializerSpec): InitializerSpec {
  const value = config[key];
  if (value === undefined || value === null) return fallback;
  const className = typeof value === 'string' ? value : (value as { class_name?: unknown }).class_name;
  const type = Object.entries(INITIALIZER_CLASSES).find(([name, cls]) => cls.toLowerCase() === String(className).toLowerCase() || name === className)?.[0];
  if (type === undefined) throw new KerasFieldError(key, `initializer ${JSON.stringify(className)} has no nabla equivalent; supported: ${Object.values(INITIALIZER_CLASSES).join(', ')}`);
  const options = typeof value === 'string' ? {} : (((value as { config?: unknown }).config ?? {}) as Record<string, unknown>);
  const spec: Record<string, unknown> = { type };
  for (const option of INITIALIZER_OPTIONS) if (options[option] !== undefined && options[option] !== null) spec[option] = options[option];
  return spec as InitializerSpec;
}

/** `{ class_name, config }` as tfjs writes initializers; random ones get Keras's `seed: null`. */
export function initializerToKeras(spec: InitializerSpec): { class_name: string; config: Record<string, unknown> } {
  const { type, ...options } = spec;
  const random = type !== 'constant' && type !== 'zeros' && type !== 'ones';
  return { class_name: INITIALIZER_CLASSES[type], config: { ...options, ...(random ? { seed: null } : {}) } };
}

/** One kernel of a layer with weights: Keras's name stem (`kernel`, `depthwise`, `recurrent`) and nabla's initializer option. */
export interface KernelField {
  readonly keras: string;
  readonly option: string;
  /** Reads its initializer otherwise than by class (a recurrent kernel's Orthogonal, which nabla does not draw). */
  readonly initializerFromKeras?: (config: KerasConfig) => InitializerSpec;
}

/** The fields a layer with kernels and a bias shares: its activation, use_bias and initializers. */
export interface WeightedOptions {
  readonly activation: ActivationSpec;
  readonly useBias: boolean;
  readonly biasInitializer: InitializerSpec;
}

/**
 * Reads what every Keras layer with kernels and a bias has (dense, the convolutions, the recurrent
 * layers): `activation` (default `activation`), `use_bias`, each kernel's `<stem>_initializer`
 * (default glorot_uniform) and `bias_initializer` (zeros), refusing their regularizers and
 * constraints.
 */
export function weightedFromKeras(config: KerasConfig, kernels: readonly KernelField[], activation: ActivationName = 'linear'): Record<string, unknown> {
  refuseExtras(config, [...kernels.map((k) => `${k.keras}_regularizer`), 'bias_regularizer', 'activity_regularizer', ...kernels.map((k) => `${k.keras}_constraint`), 'bias_constraint']);
  return {
    activation: activationFromKeras({ activation, ...config }),
    useBias: field(config, 'use_bias', 'boolean', true),
    ...Object.fromEntries(kernels.map((k) => [k.option, k.initializerFromKeras?.(config) ?? initializerFromKeras(config, `${k.keras}_initializer`, { type: 'glorot_uniform' })])),
    biasInitializer: initializerFromKeras(config, 'bias_initializer', { type: 'zeros' }),
  };
}

/** The Keras config fields of weightedFromKeras for these options, regularizers and constraints null. */
export function weightedToKeras(options: WeightedOptions, kernels: readonly KernelField[]): Record<string, unknown> {
  const initializers = options as unknown as Readonly<Record<string, InitializerSpec>>;
  const none = (suffix: string): Record<string, null> => Object.fromEntries([...kernels.map((k) => `${k.keras}_${suffix}`), `bias_${suffix}`].map((key) => [key, null]));
  return {
    activation: activationToKeras(options.activation),
    use_bias: options.useBias,
    ...Object.fromEntries(kernels.map((k) => [`${k.keras}_initializer`, initializerToKeras(initializers[k.option]!)])),
    bias_initializer: initializerToKeras(options.biasInitializer),
    ...none('regularizer'),
    activity_regularizer: null,
    ...none('constraint'),
  };
}
