// The worker threads of a threaded trainer: each instantiates the trainer's threaded module on the
// same shared memory and sits in its `worker_loop` export, which runs its part of every step the
// calling thread publishes (compiler/codegen/threaded.ts). Node, Bun and Deno run them as
// worker_threads, browsers as module Web Workers from a Blob; hosts without either (workerd), and pages
// that are not cross-origin isolated (no SharedArrayBuffer), train on one thread, and say why.
// Workers never keep a process alive, and `stop()` ends them.

/** Whether this host can run a threaded trainer, and if so whether its calling thread may block. */
export type ThreadSupport =
  | { readonly ok: true; readonly host: 'node' | 'web'; readonly callerWaits: boolean; readonly cores: number }
  | { readonly ok: false; readonly reason: string };

interface HostGlobals {
  readonly process?: { readonly versions?: { readonly node?: string } };
  readonly Worker?: unknown;
  readonly SharedArrayBuffer?: unknown;
  readonly crossOriginIsolated?: boolean;
  readonly navigator?: { readonly hardwareConcurrency?: number; readonly userAgent?: string };
  readonly document?: unknown;
  readonly WebSocketPair?: unknown;
}

export function threadSupport(): ThreadSupport {
  const g = globalThis as HostGlobals;
  const cores = Math.max(1, g.navigator?.hardwareConcurrency ?? 1);
  if (g.WebSocketPair !== undefined && g.Worker === undefined) return { ok: false, reason: 'this host (Cloudflare workerd) has no worker threads' };
  if (g.SharedArrayBuffer === undefined) {
    return {
      ok: false,
      reason:
        g.crossOriginIsolated === false
          ? 'the page is not cross-origin isolated, so it has no SharedArrayBuffer: serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp'
          : 'this host has no SharedArrayBuffer',
    };
  }
  // Node, Bun and Deno 2 have node:worker_threads, whose workers can be unref'd: they never keep
  // a process alive (a Deno Web Worker would).
  if (g.process?.versions?.node !== undefined) return { ok: true, host: 'node', callerWaits: true, cores };
  if (typeof g.Worker !== 'function') return { ok: false, reason: 'this host has no Worker' };
  // Atomics.wait traps on a page's main thread: the caller spins there while the workers finish.
  return { ok: true, host: 'web', callerWaits: g.document === undefined, cores };
}

/**
 * A Node built-in, imported at run time by a computed name, so that bundlers for the web (the
 * runtime is bundled for pages and workerd) leave it alone; only Node, Bun and Deno ask for one.
 */
function nodeBuiltin<T>(name: string): Promise<T> {
  const specifier = `node:${name}`;
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<T>;
}

/** The host's cores (Node, Bun, Deno: os.availableParallelism), for threads: 'auto'. */
export async function availableCores(support: ThreadSupport & { ok: true }): Promise<number> {
  if (support.host !== 'node') return support.cores;
  const os = await nodeBuiltin<typeof import('node:os')>('os');
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

// The worker's whole program: instantiate, say so, then run worker_loop until told to leave. A
// trap in worker_loop is recorded in the control block (worker_failed), so that the caller, which
// may be waiting for the part the worker never finished, traps too instead of waiting forever.
const WORKER_BODY = `
async function start({ module, memory, id }) {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  post({ started: id });
  try {
    instance.exports.worker_loop(id);
  } catch (err) {
    instance.exports.worker_failed(id);
    throw err;
  }
}
function fail(err) { post({ error: String(err && err.stack || err) }); }
`;
const NODE_WORKER = `const { parentPort } = require('node:worker_threads');
const post = (m) => parentPort.postMessage(m);
${WORKER_BODY}
parentPort.once('message', (m) => start(m).catch(fail));`;
const WEB_WORKER = `const post = (m) => self.postMessage(m);
${WORKER_BODY}
self.onmessage = (e) => { self.onmessage = null; start(e.data).catch(fail); };`;

interface HostWorker {
  post(message: unknown): void;
  onMessage(listener: (message: { started?: number; error?: string }) => void): void;
  /** Stops listening: in Node a worker with a message listener keeps the process alive. */
  detach(): void;
  terminate(): void;
}

async function spawn(host: 'node' | 'web'): Promise<HostWorker> {
  if (host === 'node') {
    const { Worker } = await nodeBuiltin<typeof import('node:worker_threads')>('worker_threads');
    const worker = new Worker(NODE_WORKER, { eval: true });
    // A worker blocked in worker_loop must not keep the process alive.
    worker.unref();
    return {
      post: (m) => worker.postMessage(m),
      onMessage: (listener) => {
        worker.on('message', listener);
        worker.on('error', (err: Error) => listener({ error: err.stack ?? String(err) }));
      },
      detach: () => {
        worker.removeAllListeners('message');
        worker.removeAllListeners('error');
        worker.unref();
      },
      terminate: () => void worker.terminate(),
    };
  }
  const url = URL.createObjectURL(new Blob([WEB_WORKER], { type: 'text/javascript' }));
  const worker = new Worker(url, { type: 'module' });
  URL.revokeObjectURL(url);
  return {
    post: (m) => worker.postMessage(m),
    onMessage: (listener) => {
      worker.onmessage = (e: MessageEvent) => listener(e.data as { started?: number; error?: string });
      worker.onerror = (e: ErrorEvent) => listener({ error: e.message });
    },
    detach: () => {
      worker.onmessage = null;
      worker.onerror = null;
    },
    terminate: () => worker.terminate(),
  };
}

/** The exports a threaded trainer has beyond the ABI. */
export interface ThreadedExports {
  worker_loop(id: number): void;
  worker_failed(id: number): void;
  threads_failed(): number;
  threads_ready(): number;
  threads_configure(workers: number, callerWaits: number, minWork: number): void;
  threads_stop(): void;
}

/** A worker thread trapped while it ran part of a step, so the step could not complete. */
export class WorkerFailedError extends Error {
  constructor(
    readonly worker: number,
    options: { cause: unknown },
  ) {
    super(
      `worker thread ${worker} trapped while it ran part of a step, so the step did not complete: the weights may be partly updated, and every later step on this trainer fails the same way. This is a bug in nabla; please report it. Dispose of the trainer and load it again (threads: 1 runs without workers).`,
      options,
    );
    this.name = 'WorkerFailedError';
  }
}

/** Threaded exports whose module functions throw a WorkerFailedError, instead of a bare trap, once a worker has failed. */
export function reportingWorkerFailures(exports: WebAssembly.Exports): WebAssembly.Exports {
  const threaded = exports as unknown as ThreadedExports;
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value !== 'function' || name.startsWith('worker_') || name.startsWith('threads_')) {
      wrapped[name] = value;
      continue;
    }
    const fn = value as (...args: number[]) => unknown;
    wrapped[name] = (...args: number[]): unknown => {
      try {
        return fn(...args);
      } catch (err) {
        const worker = threaded.threads_failed();
        if (worker > 0) throw new WorkerFailedError(worker, { cause: err });
        throw err;
      }
    };
  }
  return wrapped as WebAssembly.Exports;
}

/** Running workers of one trainer. */
export class WorkerPool {
  private stopped = false;

  private constructor(
    private readonly workers: readonly HostWorker[],
    private readonly exports: ThreadedExports,
  ) {}

  /**
   * Starts `count` workers on `module` and `memory`, and returns once every one is inside
   * worker_loop, so the first steps do not run on the caller alone while workers start (a part
   * no worker claims, the caller runs: a slow worker costs speed, never a wrong result).
   */
  static async start(host: 'node' | 'web', module: WebAssembly.Module, memory: WebAssembly.Memory, exports: ThreadedExports, count: number, callerWaits: boolean, minWork = 0): Promise<WorkerPool> {
    const workers: HostWorker[] = [];
    try {
      await Promise.all(
        Array.from({ length: count }, async (_, k) => {
          const worker = await spawn(host);
          workers.push(worker);
          return new Promise<void>((resolve, reject) => {
            worker.onMessage((m) => {
              if (m.error !== undefined) reject(new Error(`worker thread ${k + 1} failed: ${m.error}`));
              else if (m.started !== undefined) resolve();
            });
            worker.post({ module, memory, id: k + 1 });
          });
        }),
      );
      for (const w of workers) w.detach();
      // Started means instantiated; inside worker_loop follows at once.
      for (let waited = 0; exports.threads_ready() < count; waited++) {
        if (waited > 10_000) throw new Error(`worker threads did not start: ${exports.threads_ready()} of ${count} ready after 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    } catch (err) {
      exports.threads_stop();
      for (const w of workers) w.terminate();
      throw err;
    }
    exports.threads_configure(count, callerWaits ? 1 : 0, minWork);
    return new WorkerPool(workers, exports);
  }

  /** Ends the workers; later steps run on the calling thread alone. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.exports.threads_stop();
    for (const w of this.workers) w.terminate();
  }
}
