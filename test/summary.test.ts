// The model summary (Keras's model.summary()): shapes and parameter counts per layer, in the API
// and in `nabla inspect`.
import { describe, expect, it } from 'vitest';
import { compileToWasm } from '../compiler/compile.ts';
import { describeTrainer, inspectWasm } from '../compiler/cli/inspect.ts';
import { formatSummary, summarize } from '../compiler/model/summary.ts';

const spec = {
  name: 'mlp',
  input: { shape: [4] },
  layers: [
    { type: 'dense', name: 'hidden', units: 8, activation: 'gelu' },
    { type: 'layer_normalization', name: 'norm', center: false },
    { type: 'dense', name: 'logits', units: 3, useBias: false },
    { type: 'activation', name: 'probs', activation: 'softmax' },
  ],
  loss: { type: 'categorical_crossentropy', reduction: 'sum' },
  optimizer: { type: 'adam', clipNorm: 1 },
};

describe('model summary', () => {
  it('lists each layer with its output shape and parameter count', () => {
    const s = summarize(spec);
    expect(s.layers.map((r) => [r.layer, r.type, r.outputShape, r.params])).toEqual([
      ['hidden', 'dense (gelu)', ['N', 8], 40],
      ['norm', 'layer_normalization', ['N', 8], 8],
      ['logits', 'dense', ['N', 3], 24],
      ['probs', 'activation (softmax)', ['N', 3], 0],
    ]);
    expect(s.totalParams).toBe(72);
    expect(formatSummary(s)).toEqual([
      'layer      type                  output shape  params',
      'mlp.input  input                 [N, 4]             0',
      'hidden     dense (gelu)          [N, 8]            40',
      'norm       layer_normalization   [N, 8]             8',
      'logits     dense                 [N, 3]            24',
      'probs      activation (softmax)  [N, 3]             0',
      'total params: 72',
    ]);
  });

  it('appears in nabla inspect, with the loss and optimizer options', async () => {
    const { wasm } = await compileToWasm(spec);
    const lines = describeTrainer(inspectWasm(wasm, 'mlp.wasm'));
    expect(lines).toContain('    hidden     dense (gelu)          [N, 8]            40');
    expect(lines).toContain('loss          categorical_crossentropy, sum over rows');
    expect(lines.find((l) => l.startsWith('optimizer'))).toBe(
      'optimizer     adam, learning rate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7, clipNorm 1',
    );
  });
});
