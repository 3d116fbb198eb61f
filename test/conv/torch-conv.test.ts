// conv1d, conv2d and depthwise_conv2d against torch.nn.functional.conv1d / conv2d, given the same
// weights in PyTorch's layout ([out, in/groups, (kh,) kw]): nabla's float64 interpreter and
// PyTorch's float64 convolution agree to 1e-12 for each padding, stride, dilation and grouping.
// Needs a python3 with torch (Debian: python3-torch); skipped with a message without one,
// except under CI=true, where it fails.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../compiler/interpret/interpreter.ts';
import { samePads } from '../../compiler/layers/conv_window.ts';
import '../fixtures/image_layers.ts';
import { randomMatrix } from '../support/data.ts';
import { torchPython } from '../support/python.ts';

const python = torchPython('torch conv test');

// Reads {x: [N, *spatial, C] flat, shape, weight, wshape, bias, stride, dilation, pads, groups}
// and prints conv(x) as [N, *positions, out] flat: channels-last in and out, explicit zero pads.
const SCRIPT = `
import json, sys, torch
import torch.nn.functional as F
c = json.load(sys.stdin)
x = torch.tensor(c['x'], dtype=torch.float64).reshape(c['shape'])
rank = len(c['shape']) - 2
x = x.permute(0, rank + 1, *range(1, rank + 1))
pad = [p for axis in reversed(c['pads']) for p in axis]
x = F.pad(x, pad)
w = torch.tensor(c['weight'], dtype=torch.float64).reshape(c['wshape'])
b = torch.tensor(c['bias'], dtype=torch.float64)
conv = F.conv2d if rank == 2 else F.conv1d
y = conv(x, w, b, stride=c['stride'], dilation=c['dilation'], groups=c['groups'])
y = y.permute(0, *range(2, rank + 2), 1)
print(json.dumps(y.reshape(-1).tolist()))
`;

interface Case {
  readonly name: string;
  readonly layer: Record<string, unknown>;
  /** The input's feature shape: [h, w, c] or [steps, c]. */
  readonly image: readonly number[];
  readonly out: number;
  readonly groups: number;
}

const CASES: readonly Case[] = [
  { name: 'conv2d 3×3 valid', layer: { type: 'conv2d', filters: 4, kernelSize: 3 }, image: [6, 5, 3], out: 4, groups: 1 },
  { name: 'conv2d 3×2 same, stride 2', layer: { type: 'conv2d', filters: 3, kernelSize: [3, 2], strides: 2, padding: 'same' }, image: [7, 6, 2], out: 3, groups: 1 },
  { name: 'conv2d 2×2 dilation 2, same', layer: { type: 'conv2d', filters: 2, kernelSize: 2, dilationRate: 2, padding: 'same' }, image: [5, 5, 2], out: 2, groups: 1 },
  { name: 'conv1d 3 same, stride 2', layer: { type: 'conv1d', filters: 3, kernelSize: 3, strides: 2, padding: 'same' }, image: [9, 2], out: 3, groups: 1 },
  { name: 'depthwise 3×3 multiplier 2, same', layer: { type: 'depthwise_conv2d', kernelSize: 3, depthMultiplier: 2, padding: 'same' }, image: [5, 4, 3], out: 6, groups: 3 },
];

describe.skipIf(python === null)('convolutions against torch.nn.functional (float64)', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const features = c.image.reduce((a, b) => a * b, 1);
    const spec = { input: { shape: [features] }, layers: [{ type: 'to_image', shape: c.image }, { name: 'conv', ...c.layer }, { type: 'to_rows' }], loss: { type: 'mse' }, batchSize: 2, seed: 4 };
    const model = interpret(spec);
    const weights = model.getWeights();
    const weight = weights['conv.weight']!;
    const bias = Float64Array.from(randomMatrix(1, c.out, 3)[0]!);
    model.setWeights({ 'conv.weight': weight.data, 'conv.bias': bias });
    const x = randomMatrix(2, features, 5);
    const ours = Array.from(model.predict(x).data);

    const spatial = c.image.slice(0, -1);
    const axes = spatial.length;
    const list = (v: unknown): number[] => (typeof v === 'number' ? Array.from({ length: axes }, () => v) : (v as number[]));
    const kernel = list(c.layer['kernelSize']);
    const stride = list(c.layer['strides'] ?? 1);
    const dilation = list(c.layer['dilationRate'] ?? 1);
    const pads = spatial.map((size, a) => (c.layer['padding'] === 'same' ? samePads(size, kernel[a]!, stride[a]!, dilation[a]!) : [0, 0]));
    const input = { x: x.flat(), shape: [2, ...c.image], weight: Array.from(weight.data), wshape: weight.shape, bias: Array.from(bias), stride, dilation, pads, groups: c.groups };
    const run = spawnSync(python!, ['-c', SCRIPT], { input: JSON.stringify(input), encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`python failed: ${run.stderr}`);
    const theirs = JSON.parse(run.stdout) as number[];
    expect(ours.length).toBe(theirs.length);
    const scale = Math.max(...theirs.map(Math.abs));
    expect(Math.max(...ours.map((v, i) => Math.abs(v - theirs[i]!))) / scale).toBeLessThan(1e-12);
  });
});
