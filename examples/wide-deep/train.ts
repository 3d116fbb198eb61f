// Wide & deep regression on the diabetes data (Efron et al. 2004): 442 patients, 10 baseline
// measurements, disease progression one year later. The wide input is the standardised features
// and three pairwise crosses, fed straight to the linear output; the deep input is the
// standardised features through a small relu MLP. Graph form: examples/wide-deep/model.json.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileToWasm, loadTrainer, type EpochLog } from '../../compiler/index.ts';
import { readJson, readText } from '../../compiler/cli/files.ts';
import { fitStandardizer, standardize, trainTestSplit, type Samples } from '../../compiler/cli/preprocess.ts';
import { columns, meanSquaredError, rSquared } from '../common/data.ts';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** Feature columns: age, sex, bmi, bp, s1…s6 (total cholesterol, LDL, HDL, TC/HDL, log triglycerides, glucose). */
const FEATURES = 10;
/** The crosses the wide part sees: age×sex, bmi×bp, bmi×s5. */
const CROSSES: readonly (readonly [number, number])[] = [
  [0, 1],
  [2, 3],
  [2, 8],
];

function numbers(file: string): number[][] {
  return readText(here(file))
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number));
}

export function loadDiabetes(): Samples {
  const x = numbers('diabetes_data_raw.csv.gz');
  const y = numbers('diabetes_target.csv.gz').map((r) => r[0]!);
  return { rows: x.length, features: FEATURES, x: Float64Array.from(x.flat()), y: Float64Array.from(y) };
}

/** The wide input: the standardised features and their crosses. */
function wide(s: Samples): { shape: number[]; data: Float64Array } {
  const width = FEATURES + CROSSES.length;
  const data = new Float64Array(s.rows * width);
  for (let r = 0; r < s.rows; r++) {
    const row = s.x.subarray(r * FEATURES, (r + 1) * FEATURES);
    data.set(row, r * width);
    CROSSES.forEach(([a, b], k) => (data[r * width + FEATURES + k] = row[a]! * row[b]!));
  }
  return { shape: [s.rows, width], data };
}

export interface WideDeepResult {
  readonly testR2: number;
  readonly testMse: number;
  readonly epochs: readonly EpochLog[];
}

export async function trainWideDeep(options: { epochs?: number; splitSeed?: number; spec?: unknown; print?: (line: string) => void } = {}): Promise<WideDeepResult> {
  const print = options.print ?? (() => {});
  const epochs = options.epochs ?? 60;
  const split = trainTestSplit(loadDiabetes(), 0.2, options.splitSeed ?? 42);
  const scaler = fitStandardizer(split.train);
  const train = standardize(split.train, scaler);
  const test = standardize(split.test, scaler);
  // The target is standardised for training too; scores are in its own units.
  const mean = train.y.reduce((a, v) => a + v, 0) / train.rows;
  const std = Math.sqrt(train.y.reduce((a, v) => a + (v - mean) ** 2, 0) / train.rows);
  const all = Array.from({ length: FEATURES }, (_, c) => c);
  const feed = (s: Samples) => ({ wide: wide(s), deep: columns(s, all) });

  const compiled = await compileToWasm(options.spec ?? readJson(here('model.json')));
  const trainer = await loadTrainer(compiled.wasm);
  print(`${trainer.manifest.model}: inputs ${trainer.manifest.inputs.map((t) => `${t.name} [${t.shape.join(', ')}]`).join(', ')}; ${train.rows} training / ${test.rows} test rows`);
  const history = trainer.fit(
    { x: feed(train), y: { progression: train.y.map((v) => (v - mean) / std) } },
    { epochs, onEpochEnd: (log) => log.epoch % 10 === 0 && print(`  epoch ${String(log.epoch).padStart(3)}  loss ${log.loss.toFixed(4)}`) },
  );
  const predicted = trainer.predict(feed(test)).data.map((v) => v * std + mean);
  const result = { testR2: rSquared(predicted, test.y), testMse: meanSquaredError(predicted, test.y), epochs: history.epochs };
  const baseline = meanSquaredError(new Float64Array(test.rows).fill(mean), test.y);
  print(`${trainer.manifest.model}: test R² ${result.testR2.toFixed(3)}, test MSE ${result.testMse.toFixed(0)} (predicting the training mean: ${baseline.toFixed(0)})`);
  return result;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await trainWideDeep({ print: (line) => console.log(line) });
}
