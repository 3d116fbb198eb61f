// The page's script, bundled by esbuild: the job on the main thread, then in a module Worker.
import { runJob } from './job.mjs';

async function inWorker() {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  try {
    return await new Promise((resolve, reject) => {
      worker.onmessage = (event) => (event.data.error ? reject(new Error(`worker: ${event.data.error}`)) : resolve(event.data.result));
      worker.onerror = (event) => reject(new Error(`worker: ${event.message}`));
    });
  } finally {
    worker.terminate();
  }
}

try {
  const main = await runJob();
  const worker = await inWorker();
  window.result = { main, worker };
} catch (err) {
  window.result = { error: String(err && err.stack ? err.stack : err) };
}
