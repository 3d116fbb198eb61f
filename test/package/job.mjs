// What every consumer of the packed `nabla` runs — plain Node, Deno, Bun, a browser page and a Web
// Worker: compile a small classifier from its spec, train it 60 steps on seeded data, and report the
// .wasm's SHA-256, the losses and the final weights' bytes. Plain JavaScript with web-standard APIs
// only; `nabla` is resolved as a user's program resolves it (node_modules, or esbuild's bundle).
import { compileToWasm, loadTrainer, Rng } from 'nabla';
import { SPEC } from './spec.mjs';

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Three seeded clusters of 4 features, one per class. */
function dataset(rows) {
  const rng = new Rng(17, 0);
  const x = [];
  const y = [];
  for (let i = 0; i < rows; i++) {
    const label = i % 3;
    x.push([0, 1, 2, 3].map((f) => (f === label ? 2 : 0) + rng.normal() * 0.5));
    y.push(label);
  }
  return { x, y };
}

export async function runJob() {
  const started = performance.now();
  // The baseline SIMD build only: it gives the same bits in every host.
  const { wasm } = await compileToWasm(SPEC, { simd: 'baseline' });
  const compileMs = performance.now() - started;
  const trainer = await loadTrainer(wasm);
  const { x, y } = dataset(48);
  const losses = [];
  for (let step = 0; step < 60; step++) {
    const at = (step * SPEC.batchSize) % x.length;
    losses.push(trainer.trainStep(x.slice(at, at + SPEC.batchSize), y.slice(at, at + SPEC.batchSize)));
  }
  const weights = Object.entries(trainer.getWeights()).map(([name, t]) => `${name}:${hex(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))}`);
  const wasmSha256 = hex(new Uint8Array(await crypto.subtle.digest('SHA-256', wasm)));
  return { wasmSha256, losses, weights, compileMs };
}
