// docs/abi.md is enough to train with nothing but WebAssembly. The test
// takes the page's JavaScript block verbatim, runs it as plain JS (no nabla import in scope), and
// checks what it computes against nabla's runtime, bit for bit.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileToWasm } from '../compiler/compile.ts';
import { loadTrainer } from '../runtime/trainer.ts';
import { randomClasses, randomMatrix } from './support/data.ts';

interface SnippetResult {
  readonly loss: number;
  readonly w: Float32Array;
  readonly prediction: Float32Array;
}

/** The ```js block of the section "Training with nothing but `WebAssembly`", as a function of its free variables. */
function docSnippet(): (bytes: Uint8Array, xRows: number[][], yRows: number[][]) => Promise<SnippetResult> {
  const page = readFileSync(new URL('../docs/abi.md', import.meta.url), 'utf8');
  const section = page.slice(page.indexOf('## Training with nothing but `WebAssembly`'));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (code === undefined) throw new Error('docs/abi.md: no ```js block in "Training with nothing but `WebAssembly`"');
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => never;
  return new AsyncFunction('bytes', 'xRows', 'yRows', `${code}\nreturn { loss, w: w.slice(), prediction };`);
}

const models = [
  {
    name: 'sparse categorical cross-entropy (int32 labels)',
    spec: {
      input: { shape: [4] },
      layers: [
        { type: 'dense', name: 'hidden', units: 6, activation: 'relu' },
        { type: 'dense', name: 'out', units: 3, activation: 'softmax' },
      ],
      loss: { type: 'sparse_categorical_crossentropy' },
      batchSize: 8,
      seed: 11,
    },
    labels: (rows: number) => randomClasses(rows, 3, 5).map((k) => [k]),
  },
  {
    name: 'mse (float32 labels)',
    spec: {
      input: { shape: [2] },
      layers: [
        { type: 'dense', name: 'hidden', units: 3, activation: 'tanh' },
        { type: 'dense', name: 'out', units: 2 },
      ],
      loss: { type: 'mse' },
      batchSize: 4,
      seed: 12,
    },
    labels: (rows: number) => randomMatrix(rows, 2, 6),
  },
];

describe('the plain-WebAssembly host of docs/abi.md', () => {
  const snippet = docSnippet();

  it.each(models)('$name: trains exactly as the nabla runtime does', async ({ spec, labels }) => {
    const { wasm, manifest } = await compileToWasm(spec);
    const n = manifest.batchSize - 1;
    const xRows = randomMatrix(n, manifest.input.shape[1] as number, 4);
    const yRows = labels(n);
    const plain = await snippet(wasm, xRows, yRows);

    const trainer = await loadTrainer(wasm);
    const loss = trainer.trainStep(xRows, yRows);
    expect(plain.loss).toBe(loss);
    expect(plain.w).toEqual(trainer.getWeights()[manifest.params[0]!.name]!.data);
    expect(plain.prediction).toEqual(trainer.predict(xRows).data);
  });
});
