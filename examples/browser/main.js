// The page side of the demo: starts the training worker, draws the live loss / accuracy curve,
// and turns a drawing on the pad into the 8×8, 0–16 image the digits model was trained on.
// `?model=digits-cnn` trains the convolutional network; the dense one otherwise.
const model = new URLSearchParams(location.search).get('model') === 'digits-cnn' ? 'digits-cnn' : 'digits';
document.getElementById(model === 'digits-cnn' ? 'pick-cnn' : 'pick-dense').setAttribute('aria-current', 'page');
const worker = new Worker(`./worker.js?model=${model}`, { type: 'module' });
const status = document.getElementById('status');
const curve = document.getElementById('curve');
const pad = document.getElementById('pad');
const answer = document.getElementById('answer');
const bars = document.getElementById('bars');
const LOSS_COLOR = '#2563eb';
const ACCURACY_COLOR = '#16a34a';
const history = [];
let info;

worker.onmessage = ({ data }) => {
  switch (data.type) {
    case 'ready':
      info = data;
      status.textContent = `model ${data.model}: ${data.params.toLocaleString('en-US')} parameters, ${data.wasmBytes.toLocaleString('en-US')}-byte trainer; ${data.trainRows} training and ${data.testRows} test images; ${data.threads} thread${data.threads === 1 ? '' : 's'}${data.threadsReason ? ` (${data.threadsReason})` : ''}`;
      document.body.dataset.model = data.model;
      document.body.dataset.threads = String(data.threads);
      document.body.dataset.threadsReason = data.threadsReason ?? '';
      document.body.dataset.state = 'training';
      break;
    case 'epoch':
      history.push(data);
      status.textContent = `${info.threads} thread${info.threads === 1 ? '' : 's'} · epoch ${data.epoch}/${info.epochs} · loss ${data.loss.toFixed(4)} · training accuracy ${pct(data.accuracy)} · test accuracy ${pct(data.testAccuracy)}`;
      document.body.dataset.testAccuracy = String(data.testAccuracy);
      drawCurve();
      break;
    case 'done':
      status.textContent += ` · done in ${data.seconds.toFixed(1)} s: draw a digit`;
      document.body.dataset.state = 'done';
      break;
    case 'prediction':
      showPrediction(data.probabilities);
      break;
    case 'error':
      status.textContent = `error: ${data.message}`;
      document.body.dataset.state = 'error';
      break;
  }
};

const pct = (v) => `${(100 * v).toFixed(1)} %`;

function drawCurve() {
  const g = curve.getContext('2d');
  const { width: w, height: h } = curve;
  const left = 44, right = 44, top = 12, bottom = 28;
  g.clearRect(0, 0, w, h);
  g.fillStyle = '#fff';
  g.fillRect(0, 0, w, h);
  g.strokeStyle = '#d4d4d8';
  g.strokeRect(left, top, w - left - right, h - top - bottom);
  const maxLoss = Math.max(...history.map((e) => e.loss), 1e-9);
  const x = (i) => left + ((w - left - right) * i) / Math.max(info.epochs - 1, 1);
  const line = (values, max, color) => {
    g.strokeStyle = color;
    g.lineWidth = 2.5;
    g.beginPath();
    values.forEach((v, i) => {
      const y = top + (h - top - bottom) * (1 - v / max);
      i === 0 ? g.moveTo(x(i), y) : g.lineTo(x(i), y);
    });
    g.stroke();
  };
  line(history.map((e) => e.loss), maxLoss, LOSS_COLOR);
  line(history.map((e) => e.testAccuracy), 1, ACCURACY_COLOR);
  g.font = '12px system-ui, sans-serif';
  g.fillStyle = LOSS_COLOR;
  g.fillText(`loss (max ${maxLoss.toFixed(2)})`, left, h - 8);
  g.fillStyle = ACCURACY_COLOR;
  g.textAlign = 'right';
  g.fillText('test accuracy (0–100 %)', w - right, h - 8);
  g.textAlign = 'left';
  g.fillStyle = '#52525b';
  g.fillText(`epoch ${history.length}`, w / 2 - 24, h - 8);
}

// Drawing: thick white strokes on black, like the scanned digits.
const pen = pad.getContext('2d');
function clearPad() {
  pen.fillStyle = '#000';
  pen.fillRect(0, 0, pad.width, pad.height);
  answer.textContent = 'Draw a digit in the black square.';
  bars.replaceChildren();
}
clearPad();
let drawing = false;
let last;
const point = (e) => {
  const r = pad.getBoundingClientRect();
  return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
};
pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  last = point(e);
  pad.setPointerCapture(e.pointerId);
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  const p = point(e);
  pen.strokeStyle = '#fff';
  pen.lineWidth = pad.width / 11;
  pen.lineCap = 'round';
  pen.beginPath();
  pen.moveTo(...last);
  pen.lineTo(...p);
  pen.stroke();
  last = p;
});
pad.addEventListener('pointerup', () => {
  drawing = false;
  classify();
});
document.getElementById('clear').addEventListener('click', clearPad);

/** The ink's bounding square, a little margin, averaged into 8×8 cells scaled to [0, 1] (the data's 0–16 / 16). */
function classify() {
  const { width: w, height: h } = pad;
  const ink = pen.getImageData(0, 0, w, h).data;
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (ink[(y * w + x) * 4] > 64) {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  if (x1 < 0) return;
  const side = Math.max(x1 - x0, y1 - y0) * 1.2 + 1;
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const pixels = new Float32Array(64);
  for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) {
    let sum = 0, count = 0;
    for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) {
      const x = Math.floor(cx - side / 2 + ((c + (dx + 0.5) / 4) * side) / 8);
      const y = Math.floor(cy - side / 2 + ((r + (dy + 0.5) / 4) * side) / 8);
      if (x >= 0 && y >= 0 && x < w && y < h) sum += ink[(y * w + x) * 4] / 255;
      count++;
    }
    pixels[r * 8 + c] = sum / count;
  }
  worker.postMessage({ type: 'predict', pixels });
}

function showPrediction(p) {
  const best = p.indexOf(Math.max(...p));
  answer.textContent = `It looks like a ${best} (${pct(p[best])}).`;
  answer.dataset.digit = String(best);
  bars.replaceChildren(...Array.from(p, (v, k) => {
    const bar = document.createElement('div');
    bar.className = k === best ? 'bar best' : 'bar';
    bar.style.setProperty('--v', String(v));
    bar.textContent = String(k);
    return bar;
  }));
}
