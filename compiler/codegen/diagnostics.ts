// Gradient-flow telemetry, compiled in only with `diagnostics: true`. The guarded step calls
// `diagnostics_collect(n)` once the step is known finite and before the new values are copied
// over the old ones, so one pass sees gradients, old and new weights and this batch's
// activations (pinned as `activation:<layer>` outputs, so the memory plan keeps them), and writes
// per-parameter norms and per-layer activation statistics to a block after the guard's.
// With diagnostics off none of this is emitted and no activation is pinned.
import { findPort, type Graph, type NodeId } from '../ir/types.ts';
import type { LayerOutput } from '../model/layer-output.ts';
import { activationPort, gradientPorts } from '../../runtime/ports.ts';
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

/** A float32's bits as a u32 literal, for a row of a u32 table. */
const f32Bits = (v: number): number => new Uint32Array(new Float32Array([v]).buffer)[0]!;

export interface EmittedDiagnostics {
  readonly source: string;
  /** Bytes of its static tables. */
  readonly staticBytes: number;
}

/**
 * `gradNorms`: byte offset of the guard's gradient norms of this step (one f32 per trained
 * parameter, in `layout.params` order), stored before the collector runs: copied, not recomputed.
 * The parameters and the layers are tables of rows that two loops walk, so a layer adds data,
 * not code.
 */
export function emitDiagnostics(graph: Graph, plan: MemoryPlan, layout: DiagnosticsLayout, gradNorms: number): EmittedDiagnostics {
  const at = (id: NodeId): number => plan.offsets.get(id)!;
  const paramRows = layout.params.map((name) => {
    const param = findPort(graph.params, name)!.id;
    const update = graph.updates.find((u) => u.target === name)!.value;
    return `  ${at(param)}, ${at(update)}, ${plan.sizes.get(param)! / 4}, // ${name}`;
  });
  const layerRows = layout.layers.map((layer) => {
    const id = findPort(graph.outputs, activationPort(layer.name))!.id;
    const units = graph.nodes[id]!.shape[1] as number;
    // Saturation bounds as f32 bits; NaN where the activation has none.
    const [lo, hi] = SATURATION[layer.activation] ?? [NaN, NaN];
    return `  ${at(id)}, ${units}, ${layer.activation === 'relu' ? 1 : 0}, ${f32Bits(lo)}, ${f32Bits(hi)}, // ${layer.name} (${layer.activation})`;
  });
  const base = layout.offset + 4 * PARAM_STATS.length * layout.params.length;
  const source = [
    `/** Per trained parameter: (address, address of its new value, f32 count). */`,
    `const DIAGNOSTIC_PARAMS = memory.data<u32>([`,
    ...(paramRows.length ? paramRows : ['  0, 0, 0,']),
    `]);`,
    `/** Per layer: (activation address, units, 1 if relu, saturation bounds lo and hi as f32 bits, NaN for none). */`,
    `const DIAGNOSTIC_LAYERS = memory.data<u32>([`,
    ...(layerRows.length ? layerRows : ['  0, 0, 0, 0, 0,']),
    `]);`,
    '',
    `/** Gradient-flow telemetry of the step in progress: called before the new values are copied in. */`,
    `function diagnostics_collect(n: i32): void {`,
    `  for (let k = 0; k < ${paramRows.length}; k++) {`,
    `    const row = DIAGNOSTIC_PARAMS + <usize>k * 12;`,
    `    const param = <usize>load<u32>(row);`,
    `    const count = <i32>load<u32>(row, 8);`,
    `    const out = <usize>${layout.offset} + <usize>k * ${4 * PARAM_STATS.length};`,
    `    store<f32>(out, load<f32>(<usize>${gradNorms} + (<usize>k << 2)));`,
    `    store<f32>(out, <f32>Math.sqrt(sum_squares(param, count)), 4);`,
    `    store<f32>(out, <f32>Math.sqrt(diff_squares(<usize>load<u32>(row, 4), param, count)), 8);`,
    `  }`,
    `  for (let k = 0; k < ${layerRows.length}; k++) {`,
    `    const row = DIAGNOSTIC_LAYERS + <usize>k * 20;`,
    `    const activation = <usize>load<u32>(row);`,
    `    const units = <i32>load<u32>(row, 4);`,
    `    const lo = load<f32>(row, 12);`,
    `    const out = <usize>${base} + <usize>k * ${4 * LAYER_STATS.length};`,
    `    moments(activation, n * units, out);`,
    `    store<f32>(out, load<u32>(row, 8) ? dead_fraction(activation, n, units) : NaN, 8);`,
    `    store<f32>(out, isNaN(lo) ? NaN : saturated_fraction(activation, n * units, lo, load<f32>(row, 16)), 12);`,
    `  }`,
    `}`,
  ].join('\n');
  const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;
  return { source, staticBytes: align(12 * Math.max(1, paramRows.length)) + align(20 * Math.max(1, layerRows.length)) };
}
