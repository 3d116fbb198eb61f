// A small convolutional network on scikit-learn's 8×8 handwritten digits (1797 images, 10
// classes): two 3×3 convolutions, a 2×2 max pool, a third convolution and pool, a dense layer and
// a softmax head. Pixels 0–16 are scaled to 0–1 and read as [8, 8, 1] images; seeded 80/20 split;
// Adam with cosine decay over the 30 epochs.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileToWasm, loadTrainer, type EpochLog } from '../../compiler/index.ts';
import { loadCsv } from '../../compiler/cli/csv.ts';
import { readJson } from '../../compiler/cli/files.ts';
import { trainTestSplit, type Samples } from '../../compiler/cli/preprocess.ts';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

export interface DigitsCnnResult {
  readonly testAccuracy: number;
  readonly testLoss: number;
  readonly epochs: readonly EpochLog[];
}

export async function trainDigitsCnn(options: { epochs?: number; splitSeed?: number; spec?: unknown; print?: (line: string) => void } = {}): Promise<DigitsCnnResult> {
  const print = options.print ?? (() => {});
  const epochs = options.epochs ?? 30;
  const data = loadCsv(here('digits.csv.gz'));
  const scaled: Samples = { ...data, x: data.x.map((v) => v / 16) };
  const { train, test } = trainTestSplit(scaled, 0.2, options.splitSeed ?? 42);
  // Each row of 64 pixels is one [8, 8, 1] image (row-major, channels last).
  const images = (s: Samples) => ({ shape: [s.rows, 8, 8, 1], data: s.x });

  const compiled = await compileToWasm(options.spec ?? readJson(here('model.json')));
  const trainer = await loadTrainer(compiled.wasm);
  const m = trainer.manifest;
  print(`${m.model}: ${m.params.length} parameter tensors, ${compiled.wasm.length} bytes of wasm; ${train.rows} training / ${test.rows} test images`);
  const history = trainer.fit(
    { x: images(train), y: train.y },
    { epochs, onEpochEnd: (log) => print(`  epoch ${String(log.epoch).padStart(2)}  loss ${log.loss.toFixed(4)}  accuracy ${log.accuracy!.toFixed(4)}  ${(log.seconds * 1000).toFixed(0)} ms`) },
  );
  const evaluation = trainer.evaluate(images(test), test.y);
  print(`${m.model}: test accuracy ${(evaluation.accuracy! * 100).toFixed(2)}% (${Math.round(evaluation.accuracy! * test.rows)}/${test.rows}), test loss ${evaluation.loss.toFixed(4)}`);
  return { testAccuracy: evaluation.accuracy!, testLoss: evaluation.loss, epochs: history.epochs };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await trainDigitsCnn({ print: (line) => console.log(line) });
}
