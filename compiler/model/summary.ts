// A model summary like Keras's model.summary(): each layer with its type, output shape and
// parameter count, and the totals. Computed from the spec alone, so it needs no compilation.
import { activationType } from './activations.ts';
import { parseSpec, type ModelSpec } from './spec.ts';

export interface SummaryRow {
  readonly layer: string;
  /** `dense (relu)`, `activation (gelu)`, `layer_normalization`. */
  readonly type: string;
  /** With the batch dimension first, written 'N'. */
  readonly outputShape: readonly (number | 'N')[];
  readonly params: number;
}

export interface ModelSummary {
  readonly model: string;
  readonly input: readonly (number | 'N')[];
  readonly layers: readonly SummaryRow[];
  readonly totalParams: number;
}

/** The summary of a spec (JSON value, builder output or an already validated spec). */
export function summarize(specInput: unknown): ModelSummary {
  const spec: ModelSpec = parseSpec(specInput);
  let width = spec.input.shape[0]!;
  const layers = spec.layers.map((layer): SummaryRow => {
    switch (layer.type) {
      case 'dense': {
        const params = layer.units * width + (layer.useBias ? layer.units : 0);
        width = layer.units;
        const act = activationType(layer.activation);
        return { layer: layer.name, type: act === 'linear' ? 'dense' : `dense (${act})`, outputShape: ['N', width], params };
      }
      case 'activation':
        return { layer: layer.name, type: `activation (${activationType(layer.activation)})`, outputShape: ['N', width], params: 0 };
      case 'layer_normalization':
        return { layer: layer.name, type: 'layer_normalization', outputShape: ['N', width], params: (layer.scale ? width : 0) + (layer.center ? width : 0) };
      case 'dropout':
        return { layer: layer.name, type: `dropout (${layer.rate})`, outputShape: ['N', width], params: 0 };
      case 'batch_normalization':
        // γ, β and the two running statistics (not trained), as Keras counts them.
        return { layer: layer.name, type: 'batch_normalization', outputShape: ['N', width], params: (layer.scale ? width : 0) + (layer.center ? width : 0) + 2 * width };
    }
  });
  return { model: spec.name, input: ['N', spec.input.shape[0]!], layers, totalParams: layers.reduce((a, r) => a + r.params, 0) };
}

/** The summary as aligned text lines. */
export function formatSummary(summary: ModelSummary): string[] {
  const rows = [
    ['layer', 'type', 'output shape', 'params'],
    [`${summary.model}.input`, 'input', `[${summary.input.join(', ')}]`, '0'],
    ...summary.layers.map((r) => [r.layer, r.type, `[${r.outputShape.join(', ')}]`, r.params.toLocaleString('en-US')]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: readonly string[]): string => r.map((cell, c) => (c === r.length - 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  return [...rows.map(line), `total params: ${summary.totalParams.toLocaleString('en-US')}`];
}
