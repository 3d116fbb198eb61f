// The seed's worked example: a 2-2-1 sigmoid network, L = ½(a₂ − y)², one sample x = [0.5, 0.2],
// y = 1, hand-picked weights. Prints the forward pass, the loss and every gradient as the
// worked example gives them, as the float64 interpreter computes them and as the compiled f32
// trainer computes them; then takes one SGD step (lr 0.1).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { compileToWasm, interpret, loadTrainer, type TensorLike } from '../../compiler/index.ts';

const read = (file: string): unknown => JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8'));

export const spec = read('model.json');
export const weights = read('weights.json') as Record<string, TensorLike>;
export const x = [[0.5, 0.2]];
export const y = [1];

/** The worked example's published figures (8 decimals). */
export const expected = {
  prediction: 0.72346724,
  grads: {
    'hidden.weight': [-0.00337071, -0.00134828, -0.00390986, -0.00156394],
    'out.weight': [-0.03205042, -0.03430665],
  } as Record<string, readonly number[]>,
};

export interface SeedSide {
  readonly prediction: number;
  readonly loss: number;
  readonly grads: Record<string, readonly number[]>;
  /** The weights after one SGD step on (x, y). */
  readonly stepped: Record<string, readonly number[]>;
}

/** Runs the example on both engines; prints nothing. */
export async function runSeed(): Promise<{ interpreted: SeedSide; compiled: SeedSide; wasmBytes: number }> {
  const compiled = await compileToWasm(spec);
  const engines = { interpreted: interpret(spec), compiled: await loadTrainer(compiled.wasm) };
  const sides = {} as Record<keyof typeof engines, SeedSide>;
  for (const [name, model] of Object.entries(engines) as [keyof typeof engines, (typeof engines)[keyof typeof engines]][]) {
    model.setWeights(weights);
    const prediction = model.predict(x).data[0]!;
    const { loss, grads } = model.gradients(x, y);
    model.trainStep(x, y);
    const stepped = model.getWeights();
    const list = (record: Record<string, { data: ArrayLike<number> }>) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, Array.from(v.data)]));
    sides[name] = { prediction, loss, grads: list(grads), stepped: list(stepped) };
  }
  return { ...sides, wasmBytes: compiled.wasm.length };
}

const fmt = (v: number | undefined): string => (v === undefined ? '' : v.toFixed(8)).padStart(12);

/** `hidden.weight[1,0]`: the element's index in the weights file's nesting. */
function label(name: string, i: number): string {
  const value = weights[name] as number[] | number[][];
  const cols = Array.isArray(value[0]) ? value[0].length : 0;
  return cols ? `${name}[${Math.floor(i / cols)},${i % cols}]` : `${name}[${i}]`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { interpreted, compiled, wasmBytes } = await runSeed();
  const row = (text: string, want: number | undefined, a: number, b: number): void => console.log(`${text.padEnd(24)}${fmt(want)}  ${fmt(a)}  ${fmt(b)}`);
  console.log(`seed network 2-2-1 (sigmoid), x = [0.5, 0.2], y = 1; compiled to ${wasmBytes} bytes of wasm\n`);
  console.log(`${''.padEnd(24)}${'worked ex.'.padStart(12)}${'interpreted'.padStart(14)}${'compiled'.padStart(14)}`);
  row('prediction a2', expected.prediction, interpreted.prediction, compiled.prediction);
  row('loss ½(a2 − y)²', 0.5 * (expected.prediction - 1) ** 2, interpreted.loss, compiled.loss);
  for (const [name, grad] of Object.entries(interpreted.grads)) {
    grad.forEach((g, i) => row(`dL/d ${label(name, i)}`, expected.grads[name]?.[i], g, compiled.grads[name]![i]!));
  }
  console.log('\nafter one SGD step, w ← w − 0.1·dL/dw:');
  for (const [name, after] of Object.entries(interpreted.stepped)) {
    const before = (weights[name] as number[] | number[][]).flat();
    const want = expected.grads[name];
    after.forEach((w, i) => row(label(name, i), want && before[i]! - 0.1 * want[i]!, w, compiled.stepped[name]![i]!));
  }
}
