// workerd: the .wasm arrives as a module binding (a precompiled WebAssembly.Module), because
// workerd refuses to compile wasm bytes at run time. Each request trains afresh.
import model from './model.wasm';
import { runJob } from './job.js';

export default {
  async fetch() {
    try {
      return new Response(JSON.stringify(await runJob(model)), { headers: { 'content-type': 'application/json' } });
    } catch (err) {
      return new Response(String(err && err.stack || err), { status: 500 });
    }
  },
};
