// nabla's public API: build a model, compile it to a .wasm trainer, or run it in the float64 interpreter.
export {
  sequential,
  dense,
  conv2d,
  conv1d,
  depthwiseConv2d,
  separableConv2d,
  activation,
  layerNormalization,
  batchNormalization,
  dropout,
  maxPooling2d,
  averagePooling2d,
  maxPooling1d,
  averagePooling1d,
  globalAveragePooling2d,
  globalMaxPooling2d,
  globalAveragePooling1d,
  zeroPadding2d,
  embedding,
  simpleRnn,
  lstm,
  gru,
  bidirectional,
  repeatVector,
  multiHeadAttention,
  positionEmbedding,
  transformerBlock,
  flatten,
  reshape,
  input,
  losses,
  optimizers,
  residualBlock,
  model,
  add,
  concatenate,
  multiply,
  SymbolicTensor,
  type Applicable,
  type DenseOptions,
  type ModelConfig,
  type ModelOutput,
  type ResidualOptions,
  type SequentialConfig,
  registerLayer,
  defineLayer,
  LayerShapeError,
  type LayerDef,
  type LowerArgs,
  type ParamDecl,
  type LayerInput,
} from './model/builder.ts';
export { applicable, type LayerData } from './layers/symbolic.ts';
export { parseSpec, SpecError, type GraphSpec, type GraphSpecInput, type ModelSpec, type ModelSpecInput, type SequentialSpec } from './model/spec.ts';
export { summarize, formatSummary, type ModelSummary, type SummaryRow } from './model/summary.ts';
export { compile, compileToWasm, NABLA_VERSION, type CompileResult, type CompileOptions, type CompileStage } from './compile.ts';
export { interpret, Interpreter } from './interpret/interpreter.ts';
export { ShapeError } from './ops/op.ts';
export { printGraph } from './ir/print.ts';
export { printProgram } from './passes/fuse.ts';
export { printPlan } from './codegen/plan.ts';
export * from '../runtime/index.ts';
export { numericalGradients, relativeDifference, finiteDifferenceStep } from './gradcheck/numerical.ts';
export { gradcheck, randomBatch, type GradcheckOptions, type GradcheckReport, type TensorCheck } from './gradcheck/gradcheck.ts';
export { verdictOf, type Verdict, type PairName, type PairResult } from './gradcheck/compare.ts';
export { importKerasModel, artifactsFromModelJson, type KerasArtifacts, type ImportOptions, type ImportResult } from './interop/import.ts';
export { exportTfjs, type TfjsExport } from './interop/tfjs-export.ts';
export { InteropError } from './interop/errors.ts';
export { weightsToSafetensors, weightsFromSafetensors, type Weights, type WeightsInput } from './interop/weights.ts';
export { exportTorch } from './interop/torch/export.ts';
export { exportOnnx, ONNX_OPSET } from './interop/onnx-export.ts';
