// Help texts, kept apart from the commands so `nabla help` loads no compiler.
import { interopUsage } from './interop-usage.ts';

export const commandNames = ['compile', 'train', 'predict', 'evaluate', 'gradcheck', 'inspect', 'import', 'export', 'help'] as const;
export type CommandName = (typeof commandNames)[number];

export const usage: Record<CommandName | 'main', string> = {
  main: `Usage: nabla <command> [options]

Compile neural-network model specs (JSON) to self-contained WebAssembly trainers.

Commands:
  compile <model.json> [-o out.wasm]        compile a spec to a trainer .wasm
  train <model.json> --data <file.csv> ...  compile, then train and test on a CSV
  predict <model> --weights <w> --data <csv> predictions of saved weights, one row per input
  evaluate <model> --weights <w> --data <csv> loss and accuracy of saved weights on a CSV
  gradcheck <model.json> [options]          check the gradients three ways (compiled,
                                            interpreted, numerical)
  inspect <file.wasm> [--json]              show a trainer's manifest
  import <model.json> -o <spec.json>        convert a Keras / TensorFlow.js model to a spec
  export <model.json> --tfjs|--torch|--onnx write the model for TensorFlow.js, PyTorch, ONNX
  help [command]                            show help for a command

Options:
  -h, --help       show help
  -v, --version    show nabla's version
  --verbose        with any command: the stack trace of an internal error; with train,
                   every epoch's line

Exit status: 0 success, 1 bad input (spec, data, files), 2 bad command line,
70 internal error (a bug in nabla: please report it).

Run 'nabla help <command>' for the options of one command.`,

  compile: `Usage: nabla compile <model.json> [-o <out.wasm>] [--diagnostics] [--threaded]

Validates the model spec and compiles it to a trainer .wasm (written atomically).

Options:
  -o, --output <file>   where to write the .wasm (default: the spec's path with .wasm)
  --diagnostics         compile in gradient-flow telemetry (docs/abi.md); off, the .wasm is
                        exactly the same as without the flag
  --threaded            also carry the threaded builds, which loadTrainer(bytes, { threads })
                        runs on worker threads (docs/abi.md, "Threaded builds")
  -h, --help            show this help`,

  train: `Usage: nabla train <model.json> --data <file.csv> [options]

Compiles the model, holds out a seeded test set, trains, and reports test loss and accuracy.
The CSV (parsed by csv-parse: quoted fields, a BOM; gzipped or not) may start with a header of
column names or scikit-learn's 'n_samples,n_features,class names...' line. The target is the
last column unless --target names another. String columns are categories: a string target is
label-encoded (classes sorted), a string feature one-hot encoded. Missing values (empty, NA,
NaN, ?) are refused with their line and column, unless --impute.

Options:
  --data <file>              training data, CSV or CSV.gz (required)
  --epochs <n>               passes over the training rows (default 10; 0 trains nothing)
  --batch-size <n>           rows per step, at most the spec's batchSize (default: batchSize)
  --test-split <f>           fraction of rows held out for the test set (default 0.2; 0: none)
  --validation-split <f>     fraction of the training rows used for validation each epoch,
                             the last ones, as in Keras (default 0)
  --seed <n>                 seed for initial weights, test split and shuffling
                             (default: the spec's seed)
  --no-standardize           do not standardise features (default: scale each feature to mean 0,
                             std 1 with the training rows' statistics)
  --positive-class <k>       binary_crossentropy only: train class k (index or class name)
                             against the rest
  --target <column>          the target column: a header name or a 1-based number (default: last)
  --impute                   fill missing feature values: the column's mean (numbers), its most
                             frequent value (categories); saved for predict and evaluate
  --weights <file>           start from these weights: .json {"<layer>.weight": [[...]], ...}
                             or .safetensors (as --save writes, or PyTorch's names and layout);
                             they see standardised features unless --no-standardize
  --save <file.safetensors>  write the trained weights, the step count and the preprocessing
                             (standardisation, class names, split) for predict and evaluate
  --diagnostics              compile in gradient-flow telemetry and print it per epoch:
                             per layer ‖∇W‖, ‖ΔW‖/‖W‖, activation mean ± std, dead ReLUs,
                             saturated sigmoid/tanh units
  --report <out.html>        write an HTML report: loss curves, per-tensor gradient norms
                             and update ratios (log scale), layer statistics (implies
                             telemetry; --diagnostics also prints it)
  --shift-train              in the report, show the training loss half an epoch left
  --quiet                    print only the test result (and errors)
  --threads <n|auto>         train on n threads ('auto': the machine's cores, at most 8); the
                             weights are bit-identical to one thread's; a model whose products
                             are too small to gain trains on one, and says why (default 1)
  -h, --help                 show this help

Progress: a line while the model compiles, and on a terminal a live line within each epoch
(batch, rows/s, ETA, running loss). One line per epoch up to 50 epochs, else every few and the
last (--verbose: every epoch).

A step whose loss, gradients or new weights are NaN or ±Inf stops training with an error
naming the step and the tensor; the weights stay as they were before that step.`,

  predict: `Usage: nabla predict <model.json|trainer.wasm> --weights <file.safetensors> --data <file.csv> [options]

Predicts with weights saved by 'nabla train --save': the CSV's features get the preprocessing
train applied (standardisation statistics, columns), stored with the weights. One output row per
input row: the class (its name where the CSV header gave class names) or the value(s).
The CSV is read with the columns train saw (by header name, in any order, or by position);
it may hold the target column or only the features.

Options:
  --weights <file>       weights and preprocessing written by 'train --save' (required)
  --data <file>          rows to predict, CSV or CSV.gz (required)
  -o, --out <file.csv>   write the predictions here (atomically) instead of to stdout
  --proba                also the probability of each class (classification models)
  --rows <all|test|train> all rows (default), or one side of the split train made of this file
  -h, --help             show this help

<model> is the spec .json (compiled first, a few seconds) or a trainer .wasm ('nabla compile').`,

  evaluate: `Usage: nabla evaluate <model.json|trainer.wasm> --weights <file.safetensors> --data <file.csv> [options]

Loss and accuracy of weights saved by 'nabla train --save' on a labelled CSV, preprocessed as
train did, and metrics by the loss: precision, recall and ROC AUC (binary), top-2 accuracy
(classes), MAE, RMSE and R² (regression). Nothing is trained.

Options:
  --weights <file>        weights and preprocessing written by 'train --save' (required)
  --data <file>           labelled rows, CSV or CSV.gz (required)
  --rows <all|test|train> all rows (default), or one side of the split train made of this file:
                          '--rows test' on the training CSV gives train's own test figures
  -h, --help              show this help`,

  gradcheck: `Usage: nabla gradcheck <model.json> [options]

Computes d loss / d parameter for every parameter three ways — the compiled float32 .wasm, the
float64 interpreter, and centered differences on the interpreter — and prints, per tensor and
overall, the relative difference ‖a − b‖ / (‖a‖ + ‖b‖) of each pair, the worst element and a
verdict: ≤ 1e-7 excellent, ≤ 1e-5 acceptable, ≥ 1e-3 likely a bug (exit status 1).

Options:
  --weights <file>        check at these weights: .safetensors (as 'train --save' writes)
                          or .json {"<layer>.weight": [[...]], ...}
                          (default: the spec's initializers and seed)
  --data <file.csv>       differentiate on rows of this CSV (a seeded pick, features
                          standardised; default: seeded random rows of the model's shapes)
  --batch <n>             rows, at most the spec's batchSize (default: batchSize)
  --positive-class <k>    with --data and binary_crossentropy: class k against the rest
  --all                   check every element numerically (default: tensors of more than
                          100 elements are sampled, 100 seeded elements each)
  --seed <n>              seed of the random rows and the sampling (default: the spec's seed)
  --json                  print the report as JSON
  -h, --help              show this help`,

  inspect: `Usage: nabla inspect <file.wasm> [--json]

Shows what a trainer .wasm carries: model, ABI, shapes, parameters and their offsets, loss,
optimizer, memory, imports and exports.

Options:
  --json       print the raw manifest as JSON
  -h, --help   show this help`,

  ...interopUsage,

  help: `Usage: nabla help [command]

Shows the usage of nabla or of one command (${commandNames.join(', ')}).`,
};
