// Learning to add: the classic sequence-to-sequence task of Keras's addition_rnn example. The
// query "345+67" is read one character at a time (one-hot over "0123456789+ ", padded with spaces
// to 7 characters and reversed, as Keras's example does) by an LSTM encoder; its last state is
// repeated for each of the 4 answer characters and decoded by a second LSTM; each answer position
// has its softmax head over the 12 characters ("412 "). Pairs of numbers 0–999 are drawn with a
// fixed seed; the held-out pairs never appear in training, and the score is the exact match of
// the whole answer.
import { pathToFileURL } from 'node:url';
import { compileToWasm, loadTrainer, type EpochLog, type GraphSpecInput } from '../../compiler/index.ts';
import { Rng } from '../../runtime/prng.ts';

export const CHARACTERS = '0123456789+ ';
/** "999+999": the longest query. */
export const QUERY_LENGTH = 7;
/** "1998": the longest answer. */
export const ANSWER_LENGTH = 4;

export interface AdditionOptions {
  readonly units?: number;
  readonly trainPairs?: number;
  readonly testPairs?: number;
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  readonly seed?: number;
  readonly print?: (line: string) => void;
}

export interface AdditionResult {
  /** Fraction of held-out sums whose 4 answer characters are all right. */
  readonly exactMatch: number;
  readonly epochs: readonly EpochLog[];
  readonly compileSeconds: number;
  readonly wasmBytes: number;
}

/** The encoder–decoder: LSTM → repeat_vector → LSTM (every step) → flatten → a softmax head per answer character. */
export function additionModel(units: number, batchSize: number, learningRate: number, decaySteps: number, seed: number): GraphSpecInput {
  const heads = Array.from({ length: ANSWER_LENGTH }, (_, k) => `digit${k}`);
  return {
    name: 'addition_rnn',
    inputs: [{ name: 'query', shape: [QUERY_LENGTH, CHARACTERS.length] }],
    nodes: [
      { type: 'lstm', name: 'encoder', units, inputs: ['query'] },
      { type: 'repeat_vector', name: 'repeat', n: ANSWER_LENGTH, inputs: ['encoder'] },
      { type: 'lstm', name: 'decoder', units, returnSequences: true, inputs: ['repeat'] },
      { type: 'flatten', name: 'decoded', inputs: ['decoder'] },
      ...heads.map((name) => ({ type: 'dense', name, units: CHARACTERS.length, activation: 'softmax', inputs: ['decoded'] })),
    ],
    outputs: heads.map((node) => ({ node, loss: { type: 'sparse_categorical_crossentropy' } })),
    optimizer: { type: 'adam', learningRate, clipNorm: 1, schedule: { type: 'cosine', decaySteps, alpha: 0.02 } },
    batchSize,
    seed,
  } as GraphSpecInput;
}

/** Distinct pairs (a, b), 0 ≤ a, b ≤ 999, drawn with `seed`. */
function drawPairs(count: number, seed: number): [number, number][] {
  const rng = new Rng(seed, 17);
  const seen = new Set<number>();
  const pairs: [number, number][] = [];
  while (pairs.length < count) {
    const a = rng.below(1000);
    const b = rng.below(1000);
    if (seen.has(a * 1000 + b)) continue;
    seen.add(a * 1000 + b);
    pairs.push([a, b]);
  }
  return pairs;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** The one-hot queries [rows, 7, 12] (reversed, space-padded) and each answer character's class. */
export function encode(pairs: readonly (readonly [number, number])[]): { x: { shape: number[]; data: Float32Array }; y: Record<string, Int32Array> } {
  const x = new Float32Array(pairs.length * QUERY_LENGTH * CHARACTERS.length);
  const y = Object.fromEntries(Array.from({ length: ANSWER_LENGTH }, (_, k) => [`digit${k}`, new Int32Array(pairs.length)]));
  pairs.forEach(([a, b], i) => {
    const query = `${pad(a, 3)}+${pad(b, 3)}`.split('').reverse();
    query.forEach((ch, t) => (x[(i * QUERY_LENGTH + t) * CHARACTERS.length + CHARACTERS.indexOf(ch)] = 1));
    pad(a + b, ANSWER_LENGTH)
      .split('')
      .forEach((ch, k) => (y[`digit${k}`]![i] = CHARACTERS.indexOf(ch)));
  });
  return { x: { shape: [pairs.length, QUERY_LENGTH, CHARACTERS.length], data: x }, y };
}

export async function trainAddition(options: AdditionOptions = {}): Promise<AdditionResult> {
  const print = options.print ?? (() => {});
  const { units = 96, trainPairs = 16000, testPairs = 1000, epochs = 14, batchSize = 32, learningRate = 0.006, seed = 5 } = options;
  const pairs = drawPairs(trainPairs + testPairs, seed);
  const train = encode(pairs.slice(0, trainPairs));
  const test = encode(pairs.slice(trainPairs));

  const started = performance.now();
  const compiled = await compileToWasm(additionModel(units, batchSize, learningRate, epochs * Math.ceil(trainPairs / batchSize), seed));
  const compileSeconds = (performance.now() - started) / 1000;
  const trainer = await loadTrainer(compiled.wasm);
  print(`addition_rnn: LSTM ${units} encoder and decoder, compiled in ${compileSeconds.toFixed(1)} s, ${compiled.wasm.length} bytes of wasm; ${trainPairs} training / ${testPairs} held-out sums`);
  const exactMatchOf = (data: ReturnType<typeof encode>): number => {
    const outputs = trainer.predictOutputs({ query: data.x });
    const rows = data.x.shape[0]!;
    let right = 0;
    for (let i = 0; i < rows; i++) {
      let all = true;
      for (let k = 0; k < ANSWER_LENGTH && all; k++) {
        const p = outputs[`digit${k}`]!.data.subarray(i * CHARACTERS.length, (i + 1) * CHARACTERS.length);
        let best = 0;
        for (let c = 1; c < CHARACTERS.length; c++) if (p[c]! > p[best]!) best = c;
        all = best === data.y[`digit${k}`]![i];
      }
      if (all) right++;
    }
    return right / rows;
  };
  const history = trainer.fit(
    { x: { query: train.x }, y: train.y },
    {
      epochs,
      seed,
      // The held-out score per epoch only when someone reads it: it costs a prediction pass.
      onEpochEnd: (log) => options.print?.(`  epoch ${String(log.epoch).padStart(2)}  loss ${log.loss.toFixed(4)}  held-out exact match ${(exactMatchOf(test) * 100).toFixed(1)} %  ${log.seconds.toFixed(1)} s`),
    },
  );
  const exactMatch = exactMatchOf(test);
  print(`addition_rnn: ${(exactMatch * 100).toFixed(1)} % of held-out sums exactly right`);
  return { exactMatch, epochs: history.epochs, compileSeconds, wasmBytes: compiled.wasm.length };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await trainAddition({ print: (line) => console.log(line) });
}
