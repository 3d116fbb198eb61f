// The outside view of a lowered model, as both the interpreter and the trainer's manifest give it.
import type { LossInfo, Signature, TensorSpec } from '../../runtime/manifest.ts';
import type { LoweredModel, TensorInfo } from './lower.ts';

const tensorSpec = (t: TensorInfo): TensorSpec => ({ name: t.name, shape: [...t.shape], dtype: t.dtype, ...(t.idBound === undefined ? {} : { idBound: t.idBound }) });

export function signatureOf(model: LoweredModel): Signature {
  const { spec } = model;
  const outputs = model.outputs.map((o) => ({
    name: o.name,
    prediction: tensorSpec(o.prediction),
    labels: tensorSpec(o.labels),
    loss: { ...o.loss } as LossInfo,
    lossWeight: o.lossWeight,
  }));
  return {
    model: spec.name,
    batchSize: spec.batchSize,
    seed: spec.seed,
    inputs: model.inputs.map(tensorSpec),
    outputs,
    input: tensorSpec(model.input),
    labels: tensorSpec(model.labels),
    prediction: tensorSpec(model.prediction),
    params: model.params.map((p) => ({ name: p.name, layer: p.layer, shape: [...p.shape], initializer: { ...p.init }, ...(p.trainable ? {} : { trainable: false }) })),
    loss: outputs[0]!.loss,
    optimizer: { ...spec.optimizer },
  };
}
