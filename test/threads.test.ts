// The threaded build: 20 steps of several models give bit-identical weights and losses on 1, 2
// and 4 threads and with the single-threaded build of the same trainer, every product split into
// parts (minPartWork 1); a trainer falls back to one thread with a reason where threads cannot
// run; dispose() ends the workers and a Node process exits on its own with or without it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTROL_WORDS } from '../compiler/codegen/threaded.ts';
import { compile, compileToWasm } from '../compiler/compile.ts';
import type { GraphSpecInput, ModelSpecInput } from '../compiler/model/spec.ts';
import { Rng } from '../runtime/prng.ts';
import { loadTrainer, type LoadOptions } from '../runtime/trainer.ts';
import { THREADED_SECTION } from '../runtime/manifest.ts';
import { WorkerFailedError } from '../runtime/worker_pool.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { weightAndLossBytes } from './runtimes/job.ts';

const STEPS = 20;

interface Run {
  /** Every parameter's bytes, then the losses. */
  readonly bytes: Uint8Array;
  /** Steps the trainer published to its workers (the control block's step counter). */
  readonly published: number;
  /** Kernels of a step that may run in parts, and how many of them are products (the threaded build's manifest). */
  readonly partedKernels: number;
  readonly partedProducts: number;
  readonly threads: number;
}

/** Trains STEPS steps on seeded data (the last a partial batch) and returns the weights and losses as bytes. */
async function train(wasm: Uint8Array, options: LoadOptions): Promise<Run> {
  const trainer = await loadTrainer(wasm, options);
  try {
    const m = trainer.manifest;
    const rng = new Rng(5, 17);
    const losses = new Float32Array(STEPS);
    for (let step = 0; step < STEPS; step++) {
      const n = step === STEPS - 1 ? m.batchSize - 3 : m.batchSize;
      const x: Record<string, Tensor> = {};
      for (const t of m.inputs) {
        const rest = t.shape.slice(1) as number[];
        const draw = t.idBound === undefined ? () => 2 * rng.uniform() - 1 : () => rng.below(t.idBound!);
        x[t.name] = { shape: [n, ...rest], data: Float64Array.from({ length: n * rest.reduce((a, b) => a * b, 1) }, draw) };
      }
      const classes = m.prediction.shape[1] as number;
      const y = Float64Array.from({ length: n }, () => rng.below(classes));
      losses[step] = trainer.trainStep(m.inputs.length === 1 ? x[m.inputs[0]!.name]! : x, y);
    }
    const bytes = weightAndLossBytes(trainer, losses);
    const block = m.threads;
    const published = block ? new Int32Array(trainer.views.input.buffer, block.offset, 1)[0]! : 0;
    return { bytes, published, partedKernels: block?.partedKernels ?? 0, partedProducts: block?.partedProducts ?? 0, threads: trainer.threading.threads };
  } finally {
    trainer.dispose();
  }
}

const sparse = { type: 'sparse_categorical_crossentropy' } as const;

/** `others`: kernels besides the products run in parts (softmax rows, batched products, elementwise kernels with transcendental functions). */
const MODELS: readonly { readonly name: string; readonly spec: ModelSpecInput | GraphSpecInput; readonly others?: true }[] = [
  {
    name: 'dense, widths not multiples of 8, Adam; batch 24 (packed products) and 21',
    spec: {
      input: { shape: [20] },
      layers: [
        { type: 'dense', units: 37, activation: 'relu' },
        { type: 'dense', units: 13, activation: 'tanh' },
        { type: 'dense', units: 5, activation: 'softmax' },
      ],
      loss: sparse,
      optimizer: { type: 'adam', learningRate: 0.01 },
      batchSize: 24,
      seed: 3,
    },
  },
  {
    name: 'dense → batch_normalization → dropout, SGD with momentum; batch 12 (direct products)',
    spec: {
      input: { shape: [9] },
      layers: [
        { type: 'dense', units: 24, activation: 'relu' },
        { type: 'batch_normalization' },
        { type: 'dropout', rate: 0.3 },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: sparse,
      optimizer: { type: 'sgd', learningRate: 0.1, momentum: 0.9 },
      batchSize: 12,
      seed: 4,
    },
  },
  {
    name: 'graph form: a conv2d branch and a dense branch concatenated',
    spec: {
      inputs: [
        { name: 'image', shape: [6, 6, 2] },
        { name: 'meta', shape: [5] },
      ],
      nodes: [
        { type: 'conv2d', name: 'conv', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputs: ['image'] },
        { type: 'max_pooling2d', name: 'pool', inputs: ['conv'] },
        { type: 'flatten', name: 'flat', inputs: ['pool'] },
        { type: 'dense', name: 'side', units: 11, activation: 'elu', inputs: ['meta'] },
        { type: 'concatenate', name: 'both', inputs: ['flat', 'side'] },
        { type: 'dense', name: 'out', units: 4, activation: 'softmax', inputs: ['both'] },
      ],
      outputs: [{ node: 'out', loss: sparse }],
      optimizer: { type: 'rmsprop', learningRate: 0.01 },
      batchSize: 20,
      seed: 5,
    },
  },
  {
    name: 'attention: embedding → causal transformer block (softmax, batched products, gelu and its column sums) → pooling',
    spec: {
      input: { shape: [6], dtype: 'int32' },
      layers: [
        { type: 'embedding', inputDim: 7, outputDim: 8 },
        // mlpDim not a multiple of 4: gelu's derivative, summed by columns in parts, has a scalar tail.
        { type: 'transformer_block', numHeads: 2, mlpDim: 14, useCausalMask: true },
        { type: 'global_average_pooling1d' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: sparse,
      optimizer: { type: 'adam', learningRate: 0.01 },
      batchSize: 10,
      seed: 8,
    },
    others: true,
  },
  {
    name: 'attention, an MLP width that is a multiple of 4: gelu′ stored by the GEMM, residuals in its epilogue, the cotangents of Q, K, V written into their columns',
    spec: {
      input: { shape: [8], dtype: 'int32' },
      layers: [
        { type: 'embedding', inputDim: 9, outputDim: 12 },
        { type: 'transformer_block', numHeads: 3, mlpDim: 16, useCausalMask: true },
        { type: 'global_average_pooling1d' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: sparse,
      optimizer: { type: 'sgd', learningRate: 0.05 },
      batchSize: 12,
      seed: 9,
    },
    others: true,
  },
  {
    name: 'sequence: lstm over 5 steps → dense',
    spec: {
      input: { shape: [5, 3] },
      layers: [
        { type: 'lstm', units: 9 },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: sparse,
      optimizer: { type: 'sgd', learningRate: 0.2 },
      batchSize: 18,
      seed: 6,
    },
  },
];

describe('the threaded build gives the bits of the single-threaded build', () => {
  for (const { name, spec, others } of MODELS) {
    it(name, async () => {
      const { wasm } = await compileToWasm(spec, { threaded: true, simd: 'baseline' });
      const single = await train(wasm, {});
      expect(single.threads).toBe(1);
      for (const threads of [1, 2, 4]) {
        const run = await train(wasm, { threads, minPartWork: 1 });
        expect(run.threads, `${threads} threads`).toBe(threads);
        // More than one thread: every kernel of each step that may run in parts (the products,
        // forward and backward, and the costly others) did (published to the workers;
        // minPartWork 1 leaves none whole).
        if (threads > 1) {
          expect(run.published, `${threads} threads`).toBe(STEPS * run.partedKernels);
          if (others) expect(run.partedKernels).toBeGreaterThan(run.partedProducts);
        } else expect(run.published).toBe(0);
        expect(Buffer.from(run.bytes).equals(Buffer.from(single.bytes)), `${threads} threads against the single-threaded build`).toBe(true);
      }
      // Two builds to compile and four trainers to start: a minute on a loaded 2-core machine.
    }, 120_000);
  }
});

describe('threads', () => {
  const spec: ModelSpecInput = {
    input: { shape: [8] },
    layers: [
      { type: 'dense', units: 16, activation: 'relu' },
      { type: 'dense', units: 2, activation: 'softmax' },
    ],
    loss: sparse,
    batchSize: 16,
    seed: 9,
  };

  it('a trainer compiled without threaded builds trains on one thread and says why', async () => {
    const { wasm } = await compileToWasm(spec, { simd: 'baseline' });
    const trainer = await loadTrainer(wasm, { threads: 2 });
    expect(trainer.threading.threads).toBe(1);
    expect(trainer.threading.reason).toMatch(/compiled without threaded builds/);
    expect(Number.isFinite(trainer.trainStep({ shape: [1, 8], data: new Float64Array(8) }, [1]))).toBe(true);
  });

  it('a model whose products are too small to fill two parts stays on the single-threaded build and says why', async () => {
    // 16 rows × 8 × 16 multiply-adds at most: a part needs 2¹⁸ by default.
    const trainer = await compile(spec, { threads: 2 });
    expect(trainer.threading.threads).toBe(1);
    expect(trainer.threading.reason).toMatch(/no product of this model is large enough to gain from threads: the largest has 2048 multiply-adds at the compiled batch, and a part needs 262144/);
    expect(Number.isFinite(trainer.trainStep({ shape: [1, 8], data: new Float64Array(8) }, [1]))).toBe(true);
  });

  it('compile(spec, { threads: 2 }) builds the threaded builds and trains on 2 threads like the single-threaded trainer', async () => {
    const threaded = await compile(spec, { threads: 2, minPartWork: 1 });
    const single = await compile(spec);
    try {
      expect(threaded.threading).toEqual({ threads: 2 });
      expect(single.threading).toEqual({ threads: 1 });
      // Both layers' forward products and weight gradients, and the second's input gradient.
      expect(threaded.manifest.threads?.partedProducts).toBe(5);
      const x = { shape: [16, 8], data: Float64Array.from({ length: 128 }, (_, i) => Math.sin(i)) };
      const y = Float64Array.from({ length: 16 }, (_, i) => i % 2);
      for (let step = 0; step < 3; step++) expect(threaded.trainStep(x, y)).toBe(single.trainStep(x, y));
      expect(threaded.getWeights()).toEqual(single.getWeights());
    } finally {
      threaded.dispose();
    }
  });

  it('a worker that traps fails the step with a WorkerFailedError naming it, instead of leaving the caller waiting', async () => {
    const { wasm } = await compileToWasm(spec, { threaded: true, simd: 'baseline' });
    const trainer = await loadTrainer(wasm, { threads: 2, minPartWork: 1 });
    try {
      expect(trainer.threading.threads).toBe(2);
      const x = { shape: [16, 8], data: Float64Array.from({ length: 128 }, (_, i) => Math.cos(i)) };
      const y = Float64Array.from({ length: 16 }, (_, i) => i % 2);
      expect(Number.isFinite(trainer.trainStep(x, y))).toBe(true);
      // Publish a step of a kernel function no module has (the control block's words,
      // CONTROL_WORDS): the worker that claims its one part traps in call_part.
      const control = new Int32Array(trainer.views.input.buffer, trainer.manifest.threads!.offset, 16);
      const word = (name: (typeof CONTROL_WORDS)[number]): number => CONTROL_WORDS.indexOf(name);
      const [GEN, FN, N, ARGS, PARTS, DONE, CLAIM, FAILED] = [word('GEN'), word('FN'), word('N'), word('ARGS'), word('PARTS'), word('DONE'), word('CLAIM'), word('FAILED')];
      const tag = Atomics.load(control, GEN) + 1;
      // CLAIM is an i64 word: the tag, the first unclaimed part and the end of the unclaimed parts.
      Atomics.store(new BigInt64Array(control.buffer, control.byteOffset + 4 * CLAIM, 1), 0, (BigInt(tag) << 32n) | 1n);
      Atomics.store(control, FN, 1 << 20);
      Atomics.store(control, N, 1);
      Atomics.store(control, ARGS, 0);
      Atomics.store(control, PARTS, 1);
      Atomics.store(control, DONE, 0);
      Atomics.store(control, GEN, tag);
      Atomics.notify(control, GEN);
      for (let waited = 0; Atomics.load(control, FAILED) === 0; waited++) {
        if (waited > 10_000) throw new Error('the worker did not record its trap within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      expect(Atomics.load(control, FAILED)).toBe(1);
      // The next step's products wait for no part of that worker: the step fails, clearly.
      const failed = (() => {
        try {
          trainer.trainStep(x, y);
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(failed).toBeInstanceOf(WorkerFailedError);
      expect((failed as Error).message).toMatch(/worker thread 1 trapped while it ran part of a step, so the step did not complete/);
      expect(() => trainer.predict(x)).toThrow(WorkerFailedError);
    } finally {
      trainer.dispose();
    }
  });

  it('refuses a thread count that is not a positive integer or auto', async () => {
    const { wasm } = await compileToWasm(spec, { simd: 'baseline' });
    await expect(loadTrainer(wasm, { threads: 0 })).rejects.toThrow(/threads must be a positive integer or 'auto', got 0/);
    await expect(loadTrainer(wasm, { threads: 1.5 })).rejects.toThrow(/got 1.5/);
  });

  it('without SharedArrayBuffer (a page that is not cross-origin isolated) it trains on one thread and says why', async () => {
    const { wasm } = await compileToWasm(spec, { threaded: true, simd: 'baseline' });
    const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean };
    const saved = g.SharedArrayBuffer;
    g.SharedArrayBuffer = undefined;
    g.crossOriginIsolated = false;
    try {
      const trainer = await loadTrainer(wasm, { threads: 2 });
      expect(trainer.threading.threads).toBe(1);
      expect(trainer.threading.reason).toMatch(/not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
      expect(trainer.manifest.threads).toBeUndefined();
    } finally {
      g.SharedArrayBuffer = saved;
      delete g.crossOriginIsolated;
    }
  });

  it("'auto' runs on the host's cores, at most 8, and a tampered threaded build is refused", async () => {
    const { wasm } = await compileToWasm(spec, { threaded: true, simd: 'baseline' });
    const trainer = await loadTrainer(wasm, { threads: 'auto', minPartWork: 1 });
    const { availableParallelism } = await import('node:os');
    expect(trainer.threading.threads).toBe(Math.min(8, availableParallelism()));
    trainer.dispose();
    expect(trainer.threading.threads).toBe(1);
    // Flip a byte inside the embedded threaded build: its hash no longer matches the manifest.
    const section = new TextEncoder().encode(THREADED_SECTION);
    const at = indexOf(wasm, section) + section.length + 100;
    const tampered = wasm.slice();
    tampered[at] = tampered[at]! ^ 1;
    await expect(loadTrainer(tampered, { threads: 2 })).rejects.toThrow(/threaded build \(section 'nabla.threaded'\) has SHA-256 .* the file was altered/);
  });

  it('a Node process with a threaded trainer exits on its own, with and without dispose()', async () => {
    const { wasm } = await compileToWasm(spec, { threaded: true, simd: 'baseline' });
    const dir = mkdtempSync(join(tmpdir(), 'nabla-threads-'));
    try {
      writeFileSync(join(dir, 'model.wasm'), wasm);
      const script = join(dir, 'run.mts');
      writeFileSync(
        script,
        [
          `import { readFileSync } from 'node:fs';`,
          `import { loadTrainer } from ${JSON.stringify(join(process.cwd(), 'runtime/trainer.ts'))};`,
          `const trainer = await loadTrainer(readFileSync(${JSON.stringify(join(dir, 'model.wasm'))}), { threads: 2, minPartWork: 1 });`,
          `const loss = trainer.trainStep({ shape: [16, 8], data: new Float64Array(128).fill(0.5) }, new Float64Array(16));`,
          `if (process.argv[2] === 'dispose') trainer.dispose();`,
          `console.log(JSON.stringify({ threads: trainer.threading.threads, loss }));`,
        ].join('\n'),
      );
      for (const mode of ['dispose', 'keep']) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', script, mode], { encoding: 'utf8', timeout: 60_000 });
        const result = JSON.parse(out.trim().split('\n').pop()!) as { threads: number; loss: number };
        expect(result.threads, mode).toBe(mode === 'dispose' ? 1 : 2);
        expect(Number.isFinite(result.loss)).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let k = 0; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
    return i;
  }
  throw new Error('section name not found');
}
