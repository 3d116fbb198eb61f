// A Keras or TensorFlow.js training configuration (model.json's `trainingConfig`, a `.keras`
// file's `compile_config`) as nabla's loss and optimizer. Names are compared without case and
// underscores, so tfjs's `meanSquaredError`, Keras's `mean_squared_error` and `mse` are one loss.
// What is absent or has no nabla equivalent gets a default, and a note saying so.
import type { LossSpec } from '../model/losses.ts';
import type { OptimizerSpec } from '../optim/spec.ts';

type LossInput = { readonly type: LossSpec['type'] } & Partial<LossSpec>;
type OptimizerInput = { readonly type: OptimizerSpec['type'] } & Record<string, unknown>;

const LOSSES: Readonly<Record<string, LossSpec['type']>> = {
  mse: 'mse',
  meansquarederror: 'mse',
  mae: 'mae',
  meanabsoluteerror: 'mae',
  huber: 'huber',
  huberloss: 'huber',
  binarycrossentropy: 'binary_crossentropy',
  categoricalcrossentropy: 'categorical_crossentropy',
  sparsecategoricalcrossentropy: 'sparse_categorical_crossentropy',
};

const key = (name: string): string => name.toLowerCase().replace(/_/g, '');

/** The loss named in a training config (a name, or `{ class_name, config }`), or null when nabla has none by that name. */
export function lossFromKeras(loss: unknown): LossInput | null {
  const name = typeof loss === 'string' ? loss : (loss as { class_name?: unknown } | null)?.class_name;
  if (typeof name !== 'string') return null;
  const type = LOSSES[key(name)];
  if (type === undefined) return null;
  const config = (typeof loss === 'object' ? (loss as { config?: Record<string, unknown> }).config : undefined) ?? {};
  return { type, ...(config['from_logits'] === true ? { fromLogits: true } : {}), ...(type === 'huber' && typeof config['delta'] === 'number' ? { delta: config['delta'] } : {}) } as LossInput;
}

/** A loss for an output without one: what its final activation implies. */
export function lossForActivation(activation: string): LossInput {
  if (activation === 'softmax') return { type: 'categorical_crossentropy' };
  if (activation === 'sigmoid') return { type: 'binary_crossentropy' };
  return { type: 'mse' };
}

const number = (config: Record<string, unknown>, ...names: string[]): number | undefined => {
  for (const n of names) if (typeof config[n] === 'number') return config[n] as number;
  return undefined;
};

/** `{ class_name: 'Adam', config: {...} }` in Keras's or tfjs's spelling, or null when nabla has no such optimizer. */
export function optimizerFromKeras(optimizer: unknown): OptimizerInput | null {
  const o = optimizer as { class_name?: unknown; config?: Record<string, unknown> } | null;
  if (o === null || typeof o !== 'object' || typeof o.class_name !== 'string') return null;
  const c = o.config ?? {};
  const learningRate = number(c, 'learning_rate', 'learningRate', 'lr');
  const lr = learningRate !== undefined ? { learningRate } : {};
  switch (key(o.class_name)) {
    case 'sgd': {
      const momentum = number(c, 'momentum');
      return { type: 'sgd', ...lr, ...(momentum ? { momentum, nesterov: c['nesterov'] === true || c['useNesterov'] === true } : {}) };
    }
    case 'momentum':
      return { type: 'sgd', ...lr, momentum: number(c, 'momentum') ?? 0.9, nesterov: c['useNesterov'] === true };
    case 'rmsprop': {
      const rho = number(c, 'rho', 'decay');
      const epsilon = number(c, 'epsilon');
      return { type: 'rmsprop', ...lr, ...(rho !== undefined ? { rho } : {}), ...(epsilon !== undefined ? { epsilon } : {}) };
    }
    case 'adam':
    case 'adamw': {
      const moments: Record<string, number> = {};
      const beta1 = number(c, 'beta_1', 'beta1');
      const beta2 = number(c, 'beta_2', 'beta2');
      const epsilon = number(c, 'epsilon');
      if (beta1 !== undefined) moments['beta1'] = beta1;
      if (beta2 !== undefined) moments['beta2'] = beta2;
      if (epsilon !== undefined) moments['epsilon'] = epsilon;
      const weightDecay = number(c, 'weight_decay', 'weightDecay');
      if (key(o.class_name) === 'adamw') return { type: 'adamw', ...lr, ...moments, ...(weightDecay !== undefined ? { weightDecay } : {}) };
      return { type: 'adam', ...lr, ...moments };
    }
    default:
      return null;
  }
}
