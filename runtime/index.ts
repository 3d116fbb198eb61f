// The runtime's public API: everything needed to train with a prebuilt .wasm, and nothing of the compiler.
export { loadTrainer, Trainer, type LoadOptions, type TrainerViews } from './trainer.ts';
export { ModelRunner, type Evaluation, type OutputEvaluation } from './runner.ts';
export type { FitData, FitOptions, AsyncFitOptions, EpochLog, History } from './fit.ts';
export {
  earlyStopping,
  reduceLROnPlateau,
  learningRateScheduler,
  monitored,
  type Callback,
  type BatchLog,
  type TrainingModel,
  type EarlyStoppingOptions,
  type ReduceLROnPlateauOptions,
  type ModelCheckpointOptions,
} from './callbacks.ts';
export { readManifest, ManifestError, MANIFEST_SECTION, ABI_VERSION, type Manifest, type Signature, type TensorSpec, type ParamSpec, type OutputSpec, type HyperparameterSpec } from './manifest.ts';
export { InputError } from './errors.ts';
export { MetricSet, METRIC_NAMES, metricLabel, type MetricName, type MetricSpec } from './metric_set.ts';
export { NonFiniteError, type NonFinite } from './guard.ts';
export { WorkerFailedError } from './worker_pool.ts';
export type { Diagnostics, ParamDiagnostics, LayerDiagnostics } from './diagnostics.ts';
export type { Feed, Tensor, TensorLike } from './tensor.ts';
export { Rng, permutation } from './prng.ts';
export { saveCheckpoint, loadCheckpoint, modelCheckpoint, specHash, canonicalJson, type CheckpointInfo, type SaveOptions } from './checkpoint.ts';
export { encodeSafetensors, decodeSafetensors, SafetensorsError, type Safetensors, type StoredTensor } from './safetensors.ts';
