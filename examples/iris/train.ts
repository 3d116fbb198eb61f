// `npm run demo`: Fisher's iris, two ways. A 3-class softmax classifier, and setosa against the
// rest with a sigmoid output (as in the seed notebook). Both compiled to wasm, trained on a seeded
// 80/20 split of standardised features, and scored on the held-out 20%.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileToWasm, loadTrainer, type EpochLog } from '../../compiler/index.ts';
import { loadCsv } from '../../compiler/cli/csv.ts';
import { readJson } from '../../compiler/cli/files.ts';
import { fitStandardizer, standardize, trainTestSplit, type Samples } from '../../compiler/cli/preprocess.ts';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

export interface IrisOptions {
  /** Epochs for the 3-class model. Default 200. */
  readonly epochs?: number;
  /** Epochs for setosa-vs-rest. Default 100. */
  readonly binaryEpochs?: number;
  /** Seed of the train/test split. Default 42. */
  readonly splitSeed?: number;
  /** Where progress goes; default nowhere. */
  readonly print?: (line: string) => void;
}

export interface IrisRun {
  readonly testAccuracy: number;
  readonly testLoss: number;
  readonly compileMs: number;
  readonly wasmBytes: number;
  readonly epochs: readonly EpochLog[];
}

export interface IrisResult {
  readonly multiclass: IrisRun;
  readonly binary: IrisRun;
}

const tensor = (s: Samples) => ({ shape: [s.rows, s.features], data: s.x });

async function run(specFile: string, train: Samples, test: Samples, epochs: number, print: (line: string) => void): Promise<IrisRun> {
  const compiled = await compileToWasm(readJson(here(specFile)));
  const trainer = await loadTrainer(compiled.wasm);
  const { model, loss } = trainer.manifest;
  print(`${model}: compiled ${specFile} in ${compiled.timings.totalMs.toFixed(0)} ms to ${compiled.wasm.length} bytes of wasm (${loss.type})`);
  print(`${model}: training ${epochs} epochs on ${train.rows} rows; loss shown for the first, every 10th and the last epoch`);
  const history = trainer.fit(
    { x: tensor(train), y: train.y },
    {
      epochs,
      onEpochEnd: (log) => {
        if (log.epoch % 10 === 0 || log.epoch === 1 || log.epoch === epochs) {
          print(`  epoch ${String(log.epoch).padStart(3)}  loss ${log.loss.toFixed(4)}  accuracy ${log.accuracy?.toFixed(4)}`);
        }
      },
    },
  );
  const evaluation = trainer.evaluate(tensor(test), test.y);
  const accuracy = evaluation.accuracy!;
  print(`${model}: test accuracy ${(accuracy * 100).toFixed(2)}% (${Math.round(accuracy * test.rows)}/${test.rows}), test loss ${evaluation.loss.toFixed(4)}`);
  return { testAccuracy: accuracy, testLoss: evaluation.loss, compileMs: compiled.timings.totalMs, wasmBytes: compiled.wasm.length, epochs: history.epochs };
}

/** Trains both iris models and returns their test scores; prints only through `options.print`. */
export async function trainIris(options: IrisOptions = {}): Promise<IrisResult> {
  const print = options.print ?? (() => {});
  const data = loadCsv(here('iris.csv'));
  const splitSeed = options.splitSeed ?? 42;
  const split = trainTestSplit(data, 0.2, splitSeed);
  // Scale with the training rows' statistics only, so nothing about the test rows leaks in.
  const scaler = fitStandardizer(split.train);
  const train = standardize(split.train, scaler);
  const test = standardize(split.test, scaler);
  print(`iris: ${data.rows} rows × ${data.features} features, classes ${data.classNames?.join(', ')}`);
  print(`iris: ${train.rows} training / ${test.rows} test rows (split seed ${splitSeed}), features standardised\n`);

  const multiclass = await run('model.json', train, test, options.epochs ?? 200, print);
  print('');
  // Setosa (class 0) against the rest.
  const setosa = (s: Samples): Samples => ({ ...s, y: s.y.map((label) => (label === 0 ? 1 : 0)) });
  const binary = await run('binary.json', setosa(train), setosa(test), options.binaryEpochs ?? 100, print);
  return { multiclass, binary };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await trainIris({ print: (line) => console.log(line) });
  console.log(
    `\nsummary: 3-class test accuracy ${(result.multiclass.testAccuracy * 100).toFixed(2)}%, ` +
      `setosa-vs-rest test accuracy ${(result.binary.testAccuracy * 100).toFixed(2)}%`,
  );
}
