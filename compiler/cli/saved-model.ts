// A trained model as `predict` and `evaluate` take it: a trainer (a compiled .wasm, or a spec
// compiled here), the weights `train --save` wrote and the preprocessing stored with them, and a
// CSV mapped to the model's inputs the way train mapped its training data.
import { loadCheckpoint } from '../../runtime/checkpoint.ts';
import { InputError } from '../../runtime/errors.ts';
import { loadTrainer, type Trainer } from '../../runtime/trainer.ts';
import { loadCsv, type Dataset } from './csv.ts';
import { CliError, type Io } from './errors.ts';
import { readBytes, readJson } from './files.ts';
import { applyPreprocessing, decodePreprocessing, featureRows, type Preprocessing, type Subset } from './preprocessing.ts';
import type { Samples } from './preprocess.ts';

export interface SavedModel {
  readonly trainer: Trainer;
  readonly preprocessing: Preprocessing;
}

/** `model`: a trainer .wasm (no compile) or a model spec .json (compiled, which takes a few seconds). */
export async function loadSavedModel(model: string, weights: string, io: Io): Promise<SavedModel> {
  const bytes = readBytes(weights);
  let trainer: Trainer;
  if (model.endsWith('.wasm')) {
    trainer = await loadTrainer(readBytes(model));
  } else {
    const spec = readJson(model);
    const started = performance.now();
    io.err(`compiling ${model} ...`);
    // The compiler loads only for a spec: a .wasm needs the runtime alone.
    const { compileSpec } = await import('./compile.ts');
    trainer = await loadTrainer((await compileSpec(spec, model)).wasm);
    io.err(`compiled  ${model} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  let metadata: Readonly<Record<string, string>>;
  try {
    const info = await loadCheckpoint(trainer, bytes);
    if (!info.sameSpec) io.err(`warning: ${weights} was saved from a different model spec (its tensors fit, so they are loaded)`);
    metadata = info.metadata;
  } catch (err) {
    if (err instanceof InputError) throw new CliError(`${weights}: ${err.message}`);
    throw err;
  }
  const m = trainer.manifest;
  if (m.inputs.length !== 1 || m.outputs.length !== 1) throw new CliError(`model '${m.model}' has ${m.inputs.length} input(s) and ${m.outputs.length} output(s); a CSV feeds one input and one label column`);
  const width = m.input.shape[1] as number;
  // Weights from elsewhere (no record): the CSV's features go in as they are.
  const preprocessing = decodePreprocessing(metadata, weights) ?? { features: width };
  if (preprocessing.features !== width) throw new CliError(`${weights}: its preprocessing gives ${preprocessing.features} features, but model '${m.model}' takes ${width}`);
  return { trainer, preprocessing };
}

export interface ModelRows {
  readonly data: Dataset;
  /** Model inputs (standardised as train did) and the label column where the file has one. */
  readonly samples: Samples;
  readonly labelled: boolean;
}

/** The CSV's rows (the subset asked for) as the model's inputs. */
export function modelRows(saved: SavedModel, path: string, subset: Subset): ModelRows {
  const { schema } = saved.preprocessing;
  const data = loadCsv(path, schema ? { schema } : {});
  const { samples, labelled } = schema ? { samples: data as Samples, labelled: data.labelled } : featureRows(saved.preprocessing, data);
  if (!labelled && subset !== 'all') throw new CliError(`--rows ${subset}: ${path} has no label column, so it is not the file train split`);
  return { data, samples: applyPreprocessing(saved.preprocessing, samples, subset, path), labelled };
}
