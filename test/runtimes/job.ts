// The work every host does in the cross-runtime test: load the trainer, initialise from a seed,
// train 20 steps on batches drawn from nabla's PRNG, and return the bytes of the final weights
// followed by the 20 losses — once with the baseline build (promised bit-identical everywhere)
// and once with the build the host picks by itself (relaxed SIMD where it validates). Web-standard APIs only: esbuild bundles this file with the runtime
// into the one job.js that Node, Deno, Bun, workerd and Chromium all import.
import { loadTrainer, Rng, type Trainer } from '../../runtime/index.ts';

export const STEPS = 20;
export const JOB_SEED = 1234;

/** The spec compiled once by the test; small, but every activation of the vocabulary is on the path. */
export const CROSS_RUNTIME_SPEC = {
  name: 'cross_runtime',
  input: { shape: [6] },
  layers: [
    { type: 'dense', name: 'h1', units: 12, activation: 'sigmoid' },
    { type: 'dense', name: 'h2', units: 10, activation: 'tanh' },
    { type: 'dense', name: 'h3', units: 8, activation: 'relu', kernelInitializer: { type: 'he_normal' } },
    { type: 'dense', name: 'out', units: 3, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  optimizer: { type: 'sgd', learningRate: 0.3 },
  batchSize: 8,
  seed: 7,
} as const;

type Source = ArrayBuffer | ArrayBufferView | WebAssembly.Module;

/** Threads the threaded runs ask for; every product runs in parts (minPartWork 1), however small. */
export const JOB_THREADS = 2;

/** What a host reports: the runs as hex, which build its own choice ran, and how many threads the threaded runs had. */
export interface JobResult {
  readonly baseline: string;
  readonly auto: string;
  readonly autoSimd: 'baseline' | 'relaxed';
  /** The same two runs with the trainer's threaded builds on JOB_THREADS threads. */
  readonly threadedBaseline: string;
  readonly threadedAuto: string;
  readonly threads: number;
  /** Why the threaded runs had fewer threads than asked (trainer.threading.reason). */
  readonly threadsReason?: string;
}

/** Both runs; `source` is the .wasm's bytes or a precompiled module (workerd). */
export async function runJob(source: Source): Promise<JobResult> {
  const baseline = await trainJob(source, 'baseline');
  const auto = await trainJob(source, 'auto');
  const threadedBaseline = await trainJob(source, 'baseline', JOB_THREADS);
  const threadedAuto = await trainJob(source, 'auto', JOB_THREADS);
  return {
    baseline: toHex(baseline.bytes),
    auto: toHex(auto.bytes),
    autoSimd: auto.simd,
    threadedBaseline: toHex(threadedBaseline.bytes),
    threadedAuto: toHex(threadedAuto.bytes),
    threads: threadedBaseline.threads,
    ...(threadedBaseline.reason !== undefined ? { threadsReason: threadedBaseline.reason } : {}),
  };
}

/** Trains as described above with the build `simd` selects, on `threads` threads. */
export async function trainJob(source: Source, simd: 'baseline' | 'auto', threads = 1): Promise<{ bytes: Uint8Array; simd: 'baseline' | 'relaxed'; threads: number; reason?: string }> {
  const trainer = await loadTrainer(source, { simd, threads, minPartWork: 1 });
  try {
    return { ...trainOn(trainer), threads: trainer.threading.threads, ...(trainer.threading.reason !== undefined ? { reason: trainer.threading.reason } : {}) };
  } finally {
    trainer.dispose();
  }
}

function trainOn(trainer: Trainer): { bytes: Uint8Array; simd: 'baseline' | 'relaxed' } {
  trainer.init(JOB_SEED);
  const width = trainer.manifest.input.shape[1] as number;
  const classes = trainer.manifest.prediction.shape[1] as number;
  const batch = trainer.manifest.batchSize;
  const rng = new Rng(JOB_SEED, 99);
  const losses = new Float32Array(STEPS);
  for (let step = 0; step < STEPS; step++) {
    // The last step is a partial batch: the n < batchSize path must agree too.
    const n = step === STEPS - 1 ? batch - 3 : batch;
    const x = Float64Array.from({ length: n * width }, () => 4 * rng.uniform() - 2);
    const y = Float64Array.from({ length: n }, () => rng.below(classes));
    losses[step] = trainer.trainStep({ shape: [n, width], data: x }, y);
  }
  return { bytes: weightAndLossBytes(trainer, losses), simd: trainer.manifest.simd };
}

/** Every parameter's bytes in manifest order, then the losses': what two runs compare bit for bit. */
export function weightAndLossBytes(trainer: Trainer, losses: Float32Array): Uint8Array {
  const params = trainer.manifest.buffers.params;
  const out = new Uint8Array(params.reduce((s, p) => s + p.bytes, 0) + losses.byteLength);
  let at = 0;
  for (const p of params) {
    out.set(new Uint8Array(trainer.views.params[p.name]!.buffer, p.offset, p.bytes), at);
    at += p.bytes;
  }
  out.set(new Uint8Array(losses.buffer), at);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
