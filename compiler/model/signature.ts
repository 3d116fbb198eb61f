// The outside view of a lowered model, as both the interpreter and the trainer's manifest give it.
import type { Signature, TensorSpec } from '../../runtime/manifest.ts';
import type { LoweredModel, TensorInfo } from './lower.ts';

const tensorSpec = (t: TensorInfo): TensorSpec => ({ name: t.name, shape: [...t.shape], dtype: t.dtype });

export function signatureOf(model: LoweredModel): Signature {
  const { spec } = model;
  return {
    model: spec.name,
    batchSize: spec.batchSize,
    seed: spec.seed,
    input: tensorSpec(model.input),
    labels: tensorSpec(model.labels),
    prediction: tensorSpec(model.prediction),
    params: model.params.map((p) => ({ name: p.name, layer: p.layer, shape: [...p.shape], initializer: { ...p.init }, ...(p.trainable ? {} : { trainable: false }) })),
    loss: { ...spec.loss },
    optimizer: { ...spec.optimizer },
  };
}
