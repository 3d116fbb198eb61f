// The names the stages agree on: graph ports (lowering writes them, autodiff and the optimizer
// add to them, codegen and the interpreter look them up), the guard's check names and optimizer
// state names (the runtime reads them from the manifest). Spelled here once. It lives in runtime/
// because the runtime reads some of them and imports nothing of the compiler; the compiler may
// import runtime/ modules that hold plain data, as it does the manifest.

/** A model's output values (single-output models: the bare name; see portName). */
export const PREDICTION = 'prediction';
/** The model's loss: Σ lossWeight · loss over the outputs, in inference mode. */
export const LOSS = 'loss';
/** The targets of a model's output, a graph input. */
export const LABELS = 'labels';
/** The loss of the training pass (batch statistics, dropout) where a model has one; else LOSS is trained. */
export const TRAIN_LOSS = 'train_loss';

/** Port names of output `name`: bare in a single-output model (the ABI since the first trainer), suffixed otherwise. */
export const portName = (base: string, name: string, several: boolean): string => (several ? `${base}:${name}` : base);

const GRAD = 'grad:';
const UPDATE = 'update:';

/** The training graph's output holding d loss / d param. */
export const gradName = (param: string): string => `${GRAD}${param}`;
/** The parameter of a gradient port, or null for any other name. */
export const gradParam = (port: string): string | null => (port.startsWith(GRAD) ? port.slice(GRAD.length) : null);

/** The guard's name of a parameter's or state tensor's new value. */
export const updateName = (target: string): string => `${UPDATE}${target}`;
/** The target of an update name, or null for any other name. */
export const updateTarget = (check: string): string | null => (check.startsWith(UPDATE) ? check.slice(UPDATE.length) : null);

/** Graph output port that pins a layer's activations in a telemetry build. */
export const activationPort = (layer: string): string => `activation:${layer}`;

/** The optimizer slots a parameter may have (Keras's names): SGD's momentum, Adam's moments, RMSprop's mean square. */
export const SLOT = { momentum: 'momentum', firstMoment: 'm', secondMoment: 'v', velocity: 'velocity' } as const;
export type Slot = (typeof SLOT)[keyof typeof SLOT];
/** The state tensor of a parameter's optimizer slot, like gradName for its gradient. */
export const slotName = (slot: Slot, param: string): string => `${slot}:${param}`;
/** Optimizer state: steps taken so far, 0 before the first. */
export const STEP = 'optimizer:step';

/**
 * Hyperparameters the host may change between steps (Keras users lower the learning rate
 * mid-training): each a scalar state tensor the step reads and never writes, set by init() to
 * the spec's value and listed in the manifest's `hyperparameters`. Keyed by the spec's option name.
 */
export const HYPERPARAMETER = { learningRate: 'optimizer:learning_rate', weightDecay: 'optimizer:weight_decay' } as const;
export type HyperparameterName = keyof typeof HYPERPARAMETER;

interface NamedId {
  readonly name: string;
  readonly id: number;
}

/** A gradient output: its port name (gradName(param)), node and parameter. */
export interface GradientPort extends NamedId {
  readonly param: string;
}

/** The gradient outputs of a training graph, in parameter order (trained parameters only). */
export function gradientPorts(graph: { readonly params: readonly NamedId[]; readonly outputs: readonly NamedId[] }): GradientPort[] {
  // One pass over the outputs: a deep model has thousands of parameters and outputs.
  const outputs = new Map(graph.outputs.map((o) => [o.name, o]));
  return graph.params.flatMap((p) => {
    const port = outputs.get(gradName(p.name));
    return port ? [{ name: port.name, id: port.id, param: p.name }] : [];
  });
}
