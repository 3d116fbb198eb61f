// multi_head_attention and transformer_block against PyTorch's own modules: their parameters,
// under nabla's names and shapes, load into torch.nn.MultiheadAttention and
// torch.nn.TransformerEncoderLayer (norm_first, gelu, causal mask) as they are, and in float64 both
// give the same outputs, loss and gradients as nabla's interpreter. Needs python3 with torch; without
// it the test is skipped with a message, except under CI=true, where it fails.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../compiler/interpret/interpreter.ts';
import { perturbed, randomMatrix } from '../support/data.ts';
import { maxRelativeError } from '../support/compare.ts';
import { torchPython } from '../support/python.ts';

const python = torchPython('PyTorch attention test');

const STEPS = 5;
const WIDTH = 8;
const HEADS = 2;
const script = fileURLToPath(new URL('./torch-attention.py', import.meta.url));

interface TorchResult {
  readonly output: number[];
  readonly loss: number;
  readonly grads: Record<string, number[]>;
}

const cases = [
  { module: 'mha', causal: false, layer: { type: 'multi_head_attention', name: 'm', numHeads: HEADS } },
  { module: 'mha', causal: true, layer: { type: 'multi_head_attention', name: 'm', numHeads: HEADS, useCausalMask: true } },
  { module: 'block', causal: true, layer: { type: 'transformer_block', name: 'm', numHeads: HEADS, mlpDim: 12 } },
  { module: 'block', causal: false, layer: { type: 'transformer_block', name: 'm', numHeads: HEADS, mlpDim: 12, useCausalMask: false } },
] as const;

describe.skipIf(python === null)('attention against PyTorch (float64)', () => {
  it.each(cases.map((c) => [`${c.module === 'mha' ? 'nn.MultiheadAttention' : 'nn.TransformerEncoderLayer'}${c.causal ? ', causal' : ''}`, c] as const))('%s', (_name, c) => {
    const spec = { input: { shape: [STEPS, WIDTH] }, layers: [c.layer, { type: 'flatten' }], loss: { type: 'mse' }, batchSize: 3 };
    const interpreter = interpret(spec);
    const weights = perturbed(interpreter.getWeights(), 9);
    interpreter.setWeights(weights);
    const flat = randomMatrix(3, STEPS * WIDTH, 4);
    const x = flat.map((row) => Array.from({ length: STEPS }, (_, t) => row.slice(t * WIDTH, (t + 1) * WIDTH)));
    const y = randomMatrix(3, STEPS * WIDTH, 5);
    const shapes = interpreter.getWeights();
    const named = Object.fromEntries(Object.entries(weights).map(([name, data]) => [name.slice('m.'.length), { shape: shapes[name]!.shape, data: Array.from(data) }]));
    const run = spawnSync(python!, [script], {
      input: JSON.stringify({ module: c.module, width: WIDTH, heads: HEADS, causal: c.causal, mlp: 12, eps: 1e-5, x, y, weights: named }),
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    const torch = JSON.parse(run.stdout) as TorchResult;

    expect(maxRelativeError(interpreter.predict(x).data, torch.output)).toBeLessThan(1e-10);
    const { loss, grads } = interpreter.gradients(x, y);
    expect(Math.abs(loss - torch.loss) / torch.loss).toBeLessThan(1e-10);
    expect(Object.keys(torch.grads).sort()).toEqual(Object.keys(named).sort());
    for (const [name, g] of Object.entries(torch.grads)) expect(maxRelativeError(grads[`m.${name}`]!.data, g), name).toBeLessThan(1e-9);
  });
});
