// The training side of the demo, in a Web Worker so the page stays responsive: load the prebuilt
// trainer (`?model=digits`, the dense network, or `?model=digits-cnn`, the convolutional one),
// split the digits 80/20 with nabla's seeded shuffle, train epoch by epoch, and report the loss
// and the test accuracy after each. While it trains it answers the page's predictions. It trains
// on as many threads as the machine has where the page is cross-origin isolated (`npm run
// demo:browser` serves it with the headers), else on one, and tells the page which and why.
import { loadTrainer, permutation, Rng } from './build/nabla-runtime.js';

const EPOCHS = 30;
/** A pause between epochs, only so that a person can watch the curve grow: an epoch takes ~2 ms. */
const PAUSE_MS = 40;
const TEST_FRACTION = 0.2;

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** digits.csv.gz: 64 pixel values 0–16 then the label, one image a line. Pixels are scaled to [0, 1]. */
async function loadDigits(url) {
  let bytes = await fetchBytes(url);
  // A server may already have undone the gzip (Content-Encoding); only inflate gzip bytes.
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    bytes = new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  }
  const lines = new TextDecoder().decode(bytes).trim().split('\n');
  const x = new Float32Array(lines.length * 64);
  const y = new Int32Array(lines.length);
  lines.forEach((line, r) => {
    const values = line.split(',').map(Number);
    for (let c = 0; c < 64; c++) x[r * 64 + c] = values[c] / 16;
    y[r] = values[64];
  });
  return { x, y, rows: lines.length };
}

function take(data, order) {
  const x = new Float32Array(order.length * 64);
  const y = new Int32Array(order.length);
  order.forEach((r, i) => {
    x.set(data.x.subarray(r * 64, r * 64 + 64), i * 64);
    y[i] = data.y[r];
  });
  return { x: { shape: [order.length, ...sample], data: x }, y };
}

const MODEL = new URL(self.location.href).searchParams.get('model') === 'digits-cnn' ? 'digits-cnn' : 'digits';
/** The per-sample input shape the trainer was compiled for: [64] or an 8×8×1 image. */
let sample = [64];

let trainer;
self.onmessage = (event) => {
  if (event.data.type === 'predict' && trainer) {
    const probabilities = trainer.predict({ shape: [1, ...sample], data: event.data.pixels }).data;
    self.postMessage({ type: 'prediction', probabilities });
  }
};

try {
  const [wasm, data] = await Promise.all([fetchBytes(`./build/${MODEL}.wasm`), loadDigits('./digits.csv.gz')]);
  trainer = await loadTrainer(wasm, { threads: 'auto' });
  const m = trainer.manifest;
  sample = m.input.shape.slice(1);
  const order = permutation(data.rows, new Rng(m.seed, 7));
  const testRows = Math.round(data.rows * TEST_FRACTION);
  const test = take(data, order.subarray(0, testRows));
  const train = take(data, order.subarray(testRows));
  const params = m.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  const { threads, reason } = trainer.threading;
  self.postMessage({ type: 'ready', model: m.model, params, trainRows: data.rows - testRows, testRows, epochs: EPOCHS, wasmBytes: wasm.length, threads, threadsReason: reason });
  const started = performance.now();
  // fitAsync lets this worker answer the page's messages (predict) while it trains; a hook that
  // returns a promise (the pause) is awaited before the next epoch.
  await trainer.fitAsync(train, {
    epochs: EPOCHS,
    onEpochEnd: (log) => {
      const evaluation = trainer.evaluate(test.x, test.y);
      self.postMessage({ type: 'epoch', epoch: log.epoch, loss: log.loss, accuracy: log.accuracy, testLoss: evaluation.loss, testAccuracy: evaluation.accuracy });
      return new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    },
  });
  self.postMessage({ type: 'done', seconds: (performance.now() - started) / 1000 });
} catch (err) {
  self.postMessage({ type: 'error', message: String(err && err.stack || err) });
}
