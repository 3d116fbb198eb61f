// A character-level language model of English words: a 2-block causal transformer (width 64, 4
// heads, context 16) reads windows of 16 characters and predicts, at every position, the character
// that follows it (a loss per position; causal attention lets position t see characters ≤ t only).
// The words are one stream, each followed by '.' (id 0, also the padding before the first
// character the sampler is given); letters a–z are ids 1–26. The validation loss in nats per
// character is set against a bigram model (add-one smoothed counts of the training words). A
// seeded sampler writes new words.
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileToWasm, loadTrainer, type EpochLog, type Trainer } from '../../compiler/index.ts';
import { Rng } from '../../runtime/prng.ts';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

export const CONTEXT = 16;
export const VOCABULARY = 27;
const END = 0;

const id = (ch: string): number => ch.charCodeAt(0) - 96;
const char = (k: number): string => (k === END ? '.' : String.fromCharCode(96 + k));

export function readWords(): string[] {
  return gunzipSync(readFileSync(here('english_words.txt.gz'))).toString('utf8').split('\n').filter((w) => /^[a-z]+$/.test(w));
}

/**
 * The words as one stream `.word.word.…` cut into windows of 16 ids, one after another: row r reads
 * stream[16r, 16r + 16) and its labels are the ids one further on, stream[16r + 1, 16r + 17), so every
 * character of every word and each closing '.' is predicted once (the stream's tail that does not
 * fill a window is left out).
 */
export function examples(words: readonly string[]): { x: Int32Array; y: Int32Array; rows: number } {
  const stream = [END, ...words.flatMap((w) => [...[...w].map(id), END])];
  const rows = Math.floor((stream.length - 1) / CONTEXT);
  const x = Int32Array.from(stream.slice(0, rows * CONTEXT));
  const y = Int32Array.from(stream.slice(1, rows * CONTEXT + 1));
  return { x, y, rows };
}

/** Mean −log p(next | previous) of an add-one smoothed bigram model of `train`, over `test`'s predictions. */
export function bigramNats(train: readonly string[], test: readonly string[]): number {
  const counts = new Float64Array(VOCABULARY * VOCABULARY).fill(1);
  const pairs = (word: string): [number, number][] => {
    const ids = [END, ...[...word].map(id), END];
    return ids.slice(1).map((k, i) => [ids[i]!, k]);
  };
  for (const w of train) for (const [a, b] of pairs(w)) counts[a * VOCABULARY + b]!++;
  let nats = 0;
  let n = 0;
  for (const w of test) {
    for (const [a, b] of pairs(w)) {
      let row = 0;
      for (let k = 0; k < VOCABULARY; k++) row += counts[a * VOCABULARY + k]!;
      nats -= Math.log(counts[a * VOCABULARY + b]! / row);
      n++;
    }
  }
  return nats / n;
}

/** New words, character by character from the model's distribution, drawn with a seeded generator. */
export function sample(trainer: Trainer, count: number, seed: number, maxLength = 20): string[] {
  const rng = new Rng(seed, 1);
  const words: string[] = [];
  for (let w = 0; w < count; w++) {
    const ids: number[] = [];
    while (ids.length < maxLength) {
      const context = new Int32Array(CONTEXT);
      const before = ids.slice(-CONTEXT);
      context.set(before, CONTEXT - before.length);
      // The prediction at the last position: the character after the context's last one.
      const p = trainer.predict({ shape: [1, CONTEXT], data: context }).data.subarray((CONTEXT - 1) * VOCABULARY);
      let u = rng.uniform();
      let k = 0;
      while (k < VOCABULARY - 1 && u >= p[k]!) u -= p[k++]!;
      if (k === END) break;
      ids.push(k);
    }
    words.push(ids.map(char).join(''));
  }
  return words;
}

export interface WordsResult {
  readonly validationNats: number;
  readonly bigramNats: number;
  readonly samples: readonly string[];
  readonly epochs: readonly EpochLog[];
  readonly compileSeconds: number;
  readonly wasmBytes: number;
  /** The trained model, for more samples. */
  readonly trainer: Trainer;
}

export interface WordsOptions {
  /** Words trained on (the first of a seeded shuffle); default all but the validation words. */
  readonly trainWords?: number;
  readonly validationWords?: number;
  readonly epochs?: number;
  readonly spec?: unknown;
  readonly print?: (line: string) => void;
}

export async function trainWords(options: WordsOptions = {}): Promise<WordsResult> {
  const print = options.print ?? (() => {});
  const words = readWords();
  // A seeded shuffle (Fisher–Yates), then validation words first.
  const rng = new Rng(2026, 3);
  for (let i = words.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [words[i], words[j]] = [words[j]!, words[i]!];
  }
  const validationWords = words.slice(0, options.validationWords ?? 2000);
  const trainWords = words.slice(validationWords.length, validationWords.length + (options.trainWords ?? words.length));
  const train = examples(trainWords);
  const validation = examples(validationWords);

  const started = performance.now();
  const compiled = await compileToWasm(options.spec ?? JSON.parse(readFileSync(here('model.json'), 'utf8')));
  const compileSeconds = (performance.now() - started) / 1000;
  const trainer = await loadTrainer(compiled.wasm);
  print(`${trainer.manifest.model}: compiled in ${compileSeconds.toFixed(1)} s, ${compiled.wasm.length} bytes of wasm; ${train.rows * CONTEXT} training / ${validation.rows * CONTEXT} validation characters in windows of ${CONTEXT}`);
  const history = trainer.fit(
    { x: { shape: [train.rows, CONTEXT], data: train.x }, y: { shape: [train.rows, CONTEXT], data: train.y } },
    { epochs: options.epochs ?? 3, seed: 1, onEpochEnd: (log) => print(`  epoch ${log.epoch}  loss ${log.loss.toFixed(4)} nats/char  ${log.seconds.toFixed(1)} s`) },
  );
  const validationNats = trainer.evaluate({ shape: [validation.rows, CONTEXT], data: validation.x }, { shape: [validation.rows, CONTEXT], data: validation.y }).loss;
  const baseline = bigramNats(trainWords, validationWords);
  const samples = sample(trainer, 10, 7);
  print(`validation: ${validationNats.toFixed(4)} nats/char (bigram ${baseline.toFixed(4)})`);
  print(`samples: ${samples.join(' ')}`);
  return { validationNats, bigramNats: baseline, samples, epochs: history.epochs, compileSeconds, wasmBytes: compiled.wasm.length, trainer };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await trainWords({ print: (line) => console.log(line) });
}
