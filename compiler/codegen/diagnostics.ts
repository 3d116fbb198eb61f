// Gradient-flow telemetry, compiled in only with `diagnostics: true`. The guarded step calls
// `diagnostics_collect(n)` once the step is known finite and before the new values are copied
// over the old ones, so one pass sees gradients, old and new weights and this batch's
// activations (pinned as `activation:<layer>` outputs, so the memory plan keeps them), and writes
// per-parameter norms and per-layer activation statistics to a block after the guard's.
// With diagnostics off none of this is emitted and no activation is pinned.
import { findPort, type Graph, type NodeId } from '../ir/types.ts';
import type { LayerOutput } from '../model/layer-output.ts';
import { activationPort, gradientPorts } from '../../runtime/ports.ts';
import { f32Literal } from './elementwise.ts';
import type { MemoryPlan } from './plan.ts';
import { SATURATION } from '../../runtime/diagnostics.ts';

/** Per parameter: gradient norm, weight norm (before the step), update norm ‖w_new − w‖. */
export const PARAM_STATS = ['gradNorm', 'weightNorm', 'updateNorm'] as const;
/** Per layer: activation mean and standard deviation, dead-ReLU and saturated fractions (NaN where they do not apply). */
export const LAYER_STATS = ['activationMean', 'activationStd', 'deadFraction', 'saturatedFraction'] as const;

export interface DiagnosticsLayout {
  readonly offset: number;
  readonly bytes: number;
  /** Trained parameter names: PARAM_STATS.length f32 each, from `offset`. */
  readonly params: readonly string[];
  /** Layers after them: LAYER_STATS.length f32 each. */
  readonly layers: readonly { readonly name: string; readonly activation: string }[];
}

/** The graph with every layer's output pinned as an output, so the plan keeps its buffer to the end of the step. */
export function pinActivations(graph: Graph, layers: readonly LayerOutput[]): Graph {
  return { ...graph, outputs: [...graph.outputs, ...layers.map((l) => ({ name: activationPort(l.name), id: l.id }))] };
}

export function diagnosticsLayout(graph: Graph, layers: readonly LayerOutput[], offset: number): DiagnosticsLayout {
  const params = gradientPorts(graph).map((p) => p.param);
  return {
    offset,
    bytes: 4 * (PARAM_STATS.length * params.length + LAYER_STATS.length * layers.length),
    params,
    layers: layers.map((l) => ({ name: l.name, activation: l.activation })),
  };
}

/**
 * `gradNorms`: byte offset of the guard's gradient norms of this step (one f32 per trained
 * parameter, in `layout.params` order), stored before the collector runs: copied, not recomputed.
 */
export function emitDiagnostics(graph: Graph, plan: MemoryPlan, layout: DiagnosticsLayout, gradNorms: number): string {
  const at = (id: NodeId): number => plan.offsets.get(id)!;
  const f32s = (id: NodeId): number => plan.sizes.get(id)! / 4;
  const lines: string[] = [];
  layout.params.forEach((name, k) => {
    const param = findPort(graph.params, name)!.id;
    const update = graph.updates.find((u) => u.target === name)!.value;
    const out = layout.offset + 4 * PARAM_STATS.length * k;
    lines.push(`  store<f32>(${out}, load<f32>(${gradNorms + 4 * k})); // ${name}`);
    lines.push(`  store<f32>(${out + 4}, <f32>Math.sqrt(sum_squares(${at(param)}, ${f32s(param)})));`);
    lines.push(`  store<f32>(${out + 8}, <f32>Math.sqrt(diff_squares(${at(update)}, ${at(param)}, ${f32s(param)})));`);
  });
  const base = layout.offset + 4 * PARAM_STATS.length * layout.params.length;
  layout.layers.forEach((layer, k) => {
    const id = findPort(graph.outputs, activationPort(layer.name))!.id;
    const units = graph.nodes[id]!.shape[1] as number;
    const out = base + 4 * LAYER_STATS.length * k;
    lines.push(`  moments(${at(id)}, n * ${units}, ${out}); // ${layer.name} (${layer.activation})`);
    lines.push(`  store<f32>(${out + 8}, ${layer.activation === 'relu' ? `dead_fraction(${at(id)}, n, ${units})` : 'NaN'});`);
    const bounds = SATURATION[layer.activation];
    const saturated = bounds ? `saturated_fraction(${at(id)}, n * ${units}, ${f32Literal(bounds[0])}, ${f32Literal(bounds[1])})` : 'NaN';
    lines.push(`  store<f32>(${out + 12}, ${saturated});`);
  });
  return [
    `/** Gradient-flow telemetry of the step in progress: called before the new values are copied in. */`,
    `function diagnostics_collect(n: i32): void {`,
    ...lines,
    `}`,
  ].join('\n');
}
