// The Worker's script, bundled by esbuild: the job, posted back to the page.
import { runJob } from './job.mjs';

runJob().then(
  (result) => postMessage({ result }),
  (err) => postMessage({ error: String(err && err.stack ? err.stack : err) }),
);
