// A model summary like Keras's model.summary(): each layer with its type, output shape and
// parameter count, and the totals. Computed from the spec alone, so it needs no compilation.
import { modelDag, type DagNode } from './dag.ts';
import { product } from '../../runtime/tensor.ts';
import { parseSpec, type ModelSpec } from './spec.ts';

export interface SummaryRow {
  readonly layer: string;
  /** `dense (relu)`, `activation (gelu)`, `layer_normalization`, `add`, `dense (shares 'enc')`. */
  readonly type: string;
  /** With the batch dimension first, written 'N'. */
  readonly outputShape: readonly (number | 'N')[];
  readonly params: number;
  /** What the node reads (graph-form models). */
  readonly inputs?: readonly string[];
}

export interface ModelSummary {
  readonly model: string;
  /** The first input's shape. */
  readonly input: readonly (number | 'N')[];
  /** Every input (graph-form models). */
  readonly inputs?: readonly { readonly name: string; readonly shape: readonly (number | 'N')[] }[];
  readonly layers: readonly SummaryRow[];
  readonly totalParams: number;
}

/** The type column: the layer's own description, else its type. */
const typeText = (node: DagNode): string => node.def.describe?.(node.options) ?? node.layer.type;

/** The summary of a spec (JSON value, builder output or an already validated spec). */
export function summarize(specInput: unknown): ModelSummary {
  const spec: ModelSpec = parseSpec(specInput);
  const dag = modelDag(spec);
  const layers = dag.nodes.map((node): SummaryRow => {
    const shared = node.owner !== node.name;
    const row = {
      layer: node.name,
      type: shared ? `${typeText(node)} (shares '${node.owner}')` : typeText(node),
      outputShape: ['N', ...node.shape] as const,
      // A shared application owns nothing: its parameters are counted once, at the layer it shares.
      // Keras counts every parameter, batch normalization's running statistics included.
      params: shared ? 0 : node.params.reduce((a, p) => a + product(p.shape), 0),
    };
    return dag.graph ? { ...row, inputs: node.inputs } : row;
  });
  const inputs = dag.inputs.map((i) => ({ name: i.name, shape: ['N', ...i.shape] as const }));
  return {
    model: spec.name,
    input: ['N', ...dag.inputs[0]!.shape],
    ...(dag.graph ? { inputs } : {}),
    layers,
    totalParams: layers.reduce((a, r) => a + r.params, 0),
  };
}

/** The summary as aligned text lines. */
export function formatSummary(summary: ModelSummary): string[] {
  const shape = (s: readonly (number | 'N')[]): string => `[${s.join(', ')}]`;
  // Graph-form models add Keras's "connected to" column: what each node reads.
  const rows = summary.inputs
    ? [
        ['layer', 'type', 'output shape', 'reads', 'params'],
        ...summary.inputs.map((i) => [i.name, 'input', shape(i.shape), '', '0']),
        ...summary.layers.map((r) => [r.layer, r.type, shape(r.outputShape), (r.inputs ?? []).join(', '), r.params.toLocaleString('en-US')]),
      ]
    : [
        ['layer', 'type', 'output shape', 'params'],
        [`${summary.model}.input`, 'input', shape(summary.input), '0'],
        ...summary.layers.map((r) => [r.layer, r.type, shape(r.outputShape), r.params.toLocaleString('en-US')]),
      ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: readonly string[]): string => r.map((cell, c) => (c === r.length - 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  return [...rows.map(line), `total params: ${summary.totalParams.toLocaleString('en-US')}`];
}
