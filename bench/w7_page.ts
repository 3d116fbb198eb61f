// The page of bench/w7_browser.ts (bundled for Chromium): W7's step of each system, alternating in
// rounds on the page's thread, each on the threads it can use here. Cross-origin isolated:
//   nabla single-threaded build · nabla threaded build on 2 threads (the page's thread and one
//   worker) · jax-js reading the loss with `await data()` (its kernels run on its worker pool) ·
//   jax-js reading it with dataSync() (every kernel on the page's thread: no pool).
// Not isolated (no SharedArrayBuffer, so jax-js has no pool and nabla no threads): nabla
// single-threaded · jax-js with `await data()`, which there runs on the page's thread.
// The .wasm comes from Node (compileToWasm(w7Spec(), { threaded: true })); `?rounds=&steps=` set
// the rounds, `?only=` the variants (w7_page_result.ts). Publishes `window.result` (W7PageResult),
// or `{ error }`.
import { readManifest } from '../runtime/manifest.ts';
import { initJax } from './jax_device.ts';
import { fedStepInstance, relaxedBuild, threadedBuild, threadedStepInstance } from './nabla_builds.ts';
import { pairedRoundsAsync } from './timing.ts';
import { feedW7, jaxW7Trainer, nablaW7Weights } from './w7_model.ts';
import type { VariantKey, W7PageResult } from './w7_page_result.ts';

// Counts the Workers started while `starter` is set, and the messages the page posts to them:
// jax-js's pool is private, so this is how the page learns how many workers it runs (it starts
// them at its first asynchronous kernel) and how many messages a step sends them.
const started = { nabla: 0, jax: 0 };
const posted = { nabla: 0, jax: 0 };
let starter: keyof typeof started | null = null;
const NativeWorker = globalThis.Worker;
globalThis.Worker = class CountedWorker extends NativeWorker {
  private readonly owner = starter;
  constructor(url: string | URL, options?: WorkerOptions) {
    super(url, options);
    if (starter) started[starter]++;
  }
  override postMessage(message: unknown, options?: StructuredSerializeOptions | Transferable[]): void {
    if (this.owner) posted[this.owner]++;
    if (Array.isArray(options)) super.postMessage(message, options);
    else super.postMessage(message, options);
  }
};

async function run(): Promise<W7PageResult> {
  const query = new URLSearchParams(location.search);
  const rounds = Number(query.get('rounds') ?? 41);
  const steps = Number(query.get('steps') ?? 3);
  const isolated = crossOriginIsolated;
  const given = await WebAssembly.compile(await (await fetch('./w7.wasm')).arrayBuffer());
  const relaxed = await relaxedBuild(given);
  const single = await fedStepInstance(relaxed ?? given, feedW7());
  const batch = readManifest(given).batchSize;
  // jax-js starts from nabla's initial weights: both then take the same steps from the same point.
  const initial = nablaW7Weights(readManifest(given), single.memory.buffer);
  const only = query.get('only')?.split(',');
  const wanted = (key: VariantKey): boolean => only === undefined || only.includes(key);
  const losses: number[][] = [];
  const variants: { key: VariantKey; label: string; step: () => Promise<number> }[] = [];
  const disposers: (() => void)[] = [];
  if (wanted('nabla')) variants.push({ key: 'nabla', label: 'nabla, single-threaded build', step: async () => single.train_step(batch) });
  if (isolated && wanted('nabla-threads')) {
    starter = 'nabla';
    const threaded = await threadedStepInstance(await threadedBuild(given, relaxed !== undefined), 2, 0, feedW7());
    starter = null;
    if (!threaded.pool) throw new Error('nabla: the threaded build started no worker');
    disposers.push(() => threaded.pool?.stop());
    variants.push({ key: 'nabla-threads', label: 'nabla, threaded build on 2 threads', step: async () => threaded.exports.train_step(batch) });
  }
  await initJax();
  if (wanted('jax-async')) {
    const pooled = await jaxW7Trainer(initial);
    disposers.push(() => pooled.dispose());
    const label = isolated ? 'jax-js, await data() (its worker pool)' : 'jax-js, await data() (no pool: not isolated)';
    variants.push({ key: 'jax-async', label, step: () => pooled.stepAsync() });
  }
  if (isolated && wanted('jax-sync')) {
    const onThread = await jaxW7Trainer(initial);
    disposers.push(() => onThread.dispose());
    variants.push({ key: 'jax-sync', label: "jax-js, dataSync() (the page's thread)", step: async () => onThread.step() });
  }
  // One step of each outside the rounds: jax-js compiles its kernels (and starts its pool) here.
  for (const [k, v] of variants.entries()) {
    starter = v.key.startsWith('jax') ? 'jax' : null;
    losses[k] = [await v.step()];
    starter = null;
  }
  const timed = variants.map((v, k) => async () => losses[k]!.push(await v.step()));
  const postedBefore = posted.jax;
  const result = await pairedRoundsAsync(timed, steps, rounds, 5);
  const jaxSteps = losses[variants.findIndex((v) => v.key === 'jax-async')]?.length ?? 1;
  for (const dispose of disposers) dispose();
  return {
    crossOriginIsolated: isolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    simd: relaxed ? 'relaxed' : 'baseline',
    workers: { ...started },
    jaxMessagesPerStep: (posted.jax - postedBefore) / Math.max(1, jaxSteps - 1),
    variants: variants.map((v, k) => ({ key: v.key, label: v.label, firstLoss: losses[k]![0]!, lastLoss: losses[k]!.at(-1)! })),
    rounds: result.rounds,
    steps,
  };
}

const published = window as unknown as { result?: W7PageResult | { error: string } };
run().then(
  (result) => (published.result = result),
  (err: unknown) => (published.result = { error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
);
