// The recurrent layers' weights in safetensors carry PyTorch's names and shapes: a file of nabla's
// weights decodes to the same tensors, and its names and shapes are those of the state dict of
// torch.nn.RNN, LSTM and GRU (batch_first, bidirectional for the bidirectional layer), asked of
// torch itself where python3 with torch is found (skipped otherwise, except under CI=true).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { interpret, weightsFromSafetensors, weightsToSafetensors } from '../../compiler/index.ts';
import { toWeights } from '../../compiler/interop/weights.ts';
import { torchPython } from '../support/python.ts';

const python = torchPython('recurrent safetensors test');

const spec = {
  inputs: [{ name: 'x', shape: [4, 3] }],
  nodes: [
    { type: 'simple_rnn', name: 'rnn', units: 5, inputs: ['x'] },
    { type: 'lstm', name: 'lstm', units: 4, inputs: ['x'] },
    { type: 'gru', name: 'gru', units: 2, useBias: false, inputs: ['x'] },
    { type: 'bidirectional', name: 'bi', layer: { type: 'lstm', units: 3 }, inputs: ['x'] },
    { type: 'concatenate', name: 'joined', inputs: ['rnn', 'lstm', 'gru', 'bi'] },
  ],
  outputs: [{ node: 'joined', loss: { type: 'mse' } }],
};

/** Each module's state dict as PyTorch builds it: `<module>.<name>` → shape. */
const TORCH_MODULES = `
import json, torch.nn as nn
modules = {
    'rnn': nn.RNN(3, 5, batch_first=True),
    'lstm': nn.LSTM(3, 4, batch_first=True),
    'gru': nn.GRU(3, 2, batch_first=True, bias=False),
    'bi': nn.LSTM(3, 3, batch_first=True, bidirectional=True),
}
print(json.dumps({f'{m}.{k}': list(v.shape) for m, module in modules.items() for k, v in module.state_dict().items()}))
`;

describe('recurrent weights in safetensors', () => {
  const weights = interpret(spec).getWeights();
  const bytes = weightsToSafetensors(toWeights(weights));
  const decoded = weightsFromSafetensors(bytes);

  it('round trip: the same names, shapes and values', () => {
    expect([...decoded.keys()].sort()).toEqual(Object.keys(weights).sort());
    for (const [name, t] of decoded) {
      expect(t.shape, name).toEqual(weights[name]!.shape);
      expect(Array.from(t.data), name).toEqual(Array.from(weights[name]!.data, Math.fround));
    }
  });

  it.skipIf(python === null)("names and shapes are torch.nn.RNN's, LSTM's and GRU's state dicts", () => {
    const run = spawnSync(python!, ['-c', TORCH_MODULES], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const torchShapes = JSON.parse(run.stdout) as Record<string, number[]>;
    expect(Object.fromEntries([...decoded].map(([name, t]) => [name, [...t.shape]]))).toEqual(torchShapes);
  });
});
