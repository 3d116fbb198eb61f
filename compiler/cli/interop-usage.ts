// Help texts of the interop commands (import from Keras / TensorFlow.js, export to TensorFlow.js,
// PyTorch and ONNX), kept apart from the commands so `nabla help` loads no compiler.

export const interopUsage = {
  import: `Usage: nabla import <model.json> -o <spec.json> [--weights <out.safetensors>] [options]

Converts a Keras or TensorFlow.js model to a nabla spec (and its weights to nabla's names and
layouts). <model.json> is a TensorFlow.js layers model (model.json with its weight shards beside
it, as model.save('file://...') or tensorflowjs_converter writes them), or a Keras config (the
JSON of model.to_json(), or config.json from a .keras file; no weights). Layers nabla cannot
express are refused, naming the layer and its Keras class (docs/interop.md lists the supported ones).

Options:
  -o, --output <file>          where to write the spec (required)
  --weights <file>             write the converted weights here as safetensors (for 'train
                               --weights', 'gradcheck --weights', loadCheckpoint)
  --loss <name>                every output's loss (default: the model's training config, else
                               what each output's activation implies, with a note)
  --optimizer <name>           sgd, rmsprop, adam or adamw with its defaults (default: the
                               model's training config, else nabla's default)
  --batch-size <n>             the spec's batchSize (default 32)
  -h, --help                   show this help`,

  export: `Usage: nabla export <model.json> [--weights <file.safetensors>] (--tfjs <dir> | --torch <model.py> | --onnx <model.onnx>)...

Writes the model for another framework; give one or more targets.

Options:
  --weights <file>   the weights to export (as 'train --save' writes them); default: the spec's
                     initial weights (its initializers and seed)
  --tfjs <dir>       a TensorFlow.js layers model: <dir>/model.json and <dir>/weights.bin,
                     for tf.loadLayersModel('file://<dir>/model.json') or over http
  --torch <file>     a self-contained PyTorch module (Model), the spec's loss, optimizer and
                     schedule, and safetensors helpers; its parameter names are nabla's, so
                     load_weights(model, 'weights.safetensors') loads nabla's weights as they are
  --onnx <file>      the inference graph as ONNX (opset 17), the weights as initializers
  -h, --help         show this help`,
} as const;
