// A model with two outputs on the wine data (UCI; three cultivars of one Italian region):
// from 12 of the 13 chemical measurements, a shared trunk feeds a softmax head that names the
// cultivar and a regression head that estimates the 13th measurement, the alcohol content.
// The model's loss is 1 · cross-entropy + 0.5 · MSE; evaluate() reports each output's own loss.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileToWasm, loadTrainer, type EpochLog } from '../../compiler/index.ts';
import { loadCsv } from '../../compiler/cli/csv.ts';
import { readJson } from '../../compiler/cli/files.ts';
import { fitStandardizer, standardize, trainTestSplit, type Samples } from '../../compiler/cli/preprocess.ts';
import { columns, meanSquaredError, rSquared } from '../common/data.ts';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** Column 0 is the alcohol content (% vol), the regression target; 1–12 are the inputs. */
const ALCOHOL = 0;
const CHEMISTRY = Array.from({ length: 12 }, (_, k) => k + 1);

export interface MultiOutputResult {
  readonly testAccuracy: number;
  readonly alcoholR2: number;
  readonly alcoholMse: number;
  readonly epochs: readonly EpochLog[];
}

export async function trainMultiOutput(options: { epochs?: number; splitSeed?: number; spec?: unknown; print?: (line: string) => void } = {}): Promise<MultiOutputResult> {
  const print = options.print ?? (() => {});
  const epochs = options.epochs ?? 100;
  const split = trainTestSplit(loadCsv(here('wine_data.csv')), 0.2, options.splitSeed ?? 42);
  // Inputs and the alcohol target are scaled with the training rows' statistics; scores are in % vol.
  const scaler = fitStandardizer(split.train);
  const train = standardize(split.train, scaler);
  const test = standardize(split.test, scaler);
  const alcohol = (s: Samples) => columns(s, [ALCOHOL]);
  const data = (s: Samples) => ({ x: { chemistry: columns(s, CHEMISTRY) }, y: { cultivar: s.y, alcohol: alcohol(s) } });

  const compiled = await compileToWasm(options.spec ?? readJson(here('model.json')));
  const trainer = await loadTrainer(compiled.wasm);
  const m = trainer.manifest;
  print(`${m.model}: outputs ${m.outputs.map((o) => `${o.name} (${o.loss.type} × ${o.lossWeight})`).join(', ')}; ${train.rows} training / ${test.rows} test rows`);
  const history = trainer.fit(data(train), {
    epochs,
    onEpochEnd: (log) => log.epoch % 20 === 0 && print(`  epoch ${String(log.epoch).padStart(3)}  loss ${log.loss.toFixed(4)}`),
  });
  const t = data(test);
  const evaluation = trainer.evaluate(t.x, t.y);
  const predicted = trainer.predictOutputs(t.x)['alcohol']!.data.map((v) => v * scaler.std[ALCOHOL]! + scaler.mean[ALCOHOL]!);
  const actual = split.test.x.filter((_, i) => i % split.test.features === ALCOHOL);
  const result = {
    testAccuracy: evaluation.outputs!['cultivar']!.accuracy!,
    alcoholR2: rSquared(predicted, actual),
    alcoholMse: meanSquaredError(predicted, actual),
    epochs: history.epochs,
  };
  print(
    `${m.model}: test loss ${evaluation.loss.toFixed(4)} = cultivar ${evaluation.outputs!['cultivar']!.loss.toFixed(4)} + 0.5 × alcohol ${evaluation.outputs!['alcohol']!.loss.toFixed(4)}`,
  );
  print(`${m.model}: cultivar test accuracy ${(result.testAccuracy * 100).toFixed(1)}%; alcohol test R² ${result.alcoholR2.toFixed(3)}, RMSE ${Math.sqrt(result.alcoholMse).toFixed(3)} % vol`);
  return result;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await trainMultiOutput({ print: (line) => console.log(line) });
}
