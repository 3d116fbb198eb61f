// A residual MLP with batch normalization on scikit-learn's 8×8 handwritten digits (1797 images,
// 10 classes): a dense stem, two residual blocks act(BN(dense(act(BN(dense(x))))) + x), a softmax
// head. Pixels 0–16 are scaled to 0–1; seeded 80/20 split; AdamW with cosine decay over 30 epochs.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileToWasm, loadTrainer, type EpochLog } from '../../compiler/index.ts';
import { loadCsv } from '../../compiler/cli/csv.ts';
import { readJson } from '../../compiler/cli/files.ts';
import { trainTestSplit, type Samples } from '../../compiler/cli/preprocess.ts';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** The browser example's copy of the data (one copy in the repository; see examples/browser/README.md). */
export const DIGITS = here('../browser/digits.csv.gz');

export interface ResidualDigitsResult {
  readonly testAccuracy: number;
  readonly testLoss: number;
  readonly epochs: readonly EpochLog[];
}

export async function trainResidualDigits(options: { epochs?: number; splitSeed?: number; spec?: unknown; print?: (line: string) => void } = {}): Promise<ResidualDigitsResult> {
  const print = options.print ?? (() => {});
  const epochs = options.epochs ?? 30;
  const data = loadCsv(DIGITS);
  const scaled: Samples = { ...data, x: data.x.map((v) => v / 16) };
  const { train, test } = trainTestSplit(scaled, 0.2, options.splitSeed ?? 42);
  const tensor = (s: Samples) => ({ shape: [s.rows, s.features], data: s.x });

  const compiled = await compileToWasm(options.spec ?? readJson(here('model.json')));
  const trainer = await loadTrainer(compiled.wasm);
  const m = trainer.manifest;
  print(`${m.model}: ${m.params.length} parameter tensors, ${compiled.wasm.length} bytes of wasm; ${train.rows} training / ${test.rows} test rows`);
  const history = trainer.fit(
    { x: tensor(train), y: train.y },
    { epochs, onEpochEnd: (log) => print(`  epoch ${String(log.epoch).padStart(2)}  loss ${log.loss.toFixed(4)}  accuracy ${log.accuracy!.toFixed(4)}  ${(log.seconds * 1000).toFixed(0)} ms`) },
  );
  const evaluation = trainer.evaluate(tensor(test), test.y);
  print(`${m.model}: test accuracy ${(evaluation.accuracy! * 100).toFixed(2)}% (${Math.round(evaluation.accuracy! * test.rows)}/${test.rows}), test loss ${evaluation.loss.toFixed(4)}`);
  return { testAccuracy: evaluation.accuracy!, testLoss: evaluation.loss, epochs: history.epochs };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await trainResidualDigits({ print: (line) => console.log(line) });
}
