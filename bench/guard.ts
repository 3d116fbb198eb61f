// What the non-finite guard and the telemetry cost per training step: the bare `train_step`
// export against `train_step_checked` (the guard, what fit and trainStep call) and against the
// checked step of a trainer compiled with `diagnostics: true`. Interleaved rounds, medians, ratios
// side by side in one run (the machine is shared and noisy).
//
//   node --import assemblyscript/asc --import tsx bench/guard.ts
import { compileToWasm } from '../compiler/compile.ts';
import { Rng } from '../runtime/prng.ts';

interface Exports {
  memory: WebAssembly.Memory;
  init(seed: number): void;
  train_step(n: number): number;
  train_step_checked(n: number): number;
}

const MODELS = [
  { name: 'iris 4-10-3, batch 16', input: 4, hidden: [10], classes: 3, batch: 16, steps: 2000 },
  { name: 'W1 784-256-128-10, batch 64', input: 784, hidden: [256, 128], classes: 10, batch: 64, steps: 8 },
];

function spec(m: (typeof MODELS)[number]): unknown {
  return {
    name: 'bench',
    input: { shape: [m.input] },
    layers: [...m.hidden.map((units) => ({ type: 'dense', units, activation: 'relu' })), { type: 'dense', units: m.classes, activation: 'softmax' }],
    loss: { type: 'sparse_categorical_crossentropy' },
    optimizer: { type: 'sgd', learningRate: 0.01 },
    batchSize: m.batch,
  };
}

async function instance(wasm: Uint8Array<ArrayBuffer>, manifest: { buffers: { input: { offset: number; bytes: number }; labels: { offset: number; bytes: number } } }, m: (typeof MODELS)[number]): Promise<Exports> {
  const { instance } = await WebAssembly.instantiate(wasm, {});
  const e = instance.exports as unknown as Exports;
  e.init(1);
  const rng = new Rng(3, 9);
  new Float32Array(e.memory.buffer, manifest.buffers.input.offset, manifest.buffers.input.bytes / 4).set(Float32Array.from({ length: m.batch * m.input }, () => rng.uniform()));
  new Int32Array(e.memory.buffer, manifest.buffers.labels.offset, m.batch).set(Int32Array.from({ length: m.batch }, () => rng.below(m.classes)));
  return e;
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;

for (const m of MODELS) {
  const plain = await compileToWasm(spec(m));
  const diag = await compileToWasm(spec(m), { diagnostics: true });
  const a = await instance(plain.wasm, plain.manifest, m);
  const b = await instance(diag.wasm, diag.manifest, m);
  const variants: [string, () => void][] = [
    ['train_step (bare)', () => a.train_step(m.batch)],
    ['train_step_checked (guard)', () => a.train_step_checked(m.batch)],
    ['train_step_checked, diagnostics on', () => b.train_step_checked(m.batch)],
  ];
  const times: number[][] = variants.map(() => []);
  const ROUNDS = 45;
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate which variant goes first, so a burst of load from elsewhere hits each alike.
    for (let j = 0; j < variants.length; j++) {
      const k = (round + j) % variants.length;
      const t0 = performance.now();
      for (let i = 0; i < m.steps; i++) variants[k]![1]();
      times[k]!.push(((performance.now() - t0) / m.steps) * 1000);
    }
  }
  console.log(`${m.name}: median µs per step, and median of each round's ratio to the bare step, over ${ROUNDS - 5} rounds (after 5 warm-up rounds)`);
  variants.forEach(([name], k) => {
    const t = median(times[k]!.slice(5));
    const ratio = median(times[k]!.slice(5).map((v, r) => v / times[0]![r + 5]!));
    console.log(`  ${name.padEnd(36)} ${t.toFixed(1).padStart(9)} µs   ×${ratio.toFixed(3)}`);
  });
}
