// Reading the gradient-flow telemetry a trainer compiled with `diagnostics: true` leaves after each
// step (see docs/abi.md), and averaging it over an epoch for fit's history.
import type { Manifest } from './manifest.ts';

export interface ParamDiagnostics {
  /** ‖∂loss/∂w‖₂ of this step. */
  readonly gradNorm: number;
  /** ‖w‖₂ before the step. */
  readonly weightNorm: number;
  /** ‖Δw‖₂ / ‖w‖₂ of this step's update (about 1e-3 is the classic healthy value). */
  readonly updateRatio: number;
}

export interface LayerDiagnostics {
  readonly activation: string;
  /** Mean and standard deviation of the layer's output over the batch and its units. */
  readonly mean: number;
  readonly std: number;
  /** relu layers: fraction of units that are 0 for every row of the batch. */
  readonly deadFraction?: number;
  /** sigmoid (outside 0.01…0.99) and tanh (outside ±0.99) layers: fraction of saturated outputs. */
  readonly saturatedFraction?: number;
}

export interface Diagnostics {
  readonly params: Readonly<Record<string, ParamDiagnostics>>;
  readonly layers: Readonly<Record<string, LayerDiagnostics>>;
}

/** Bounds outside which a sigmoid or tanh output counts as saturated (its derivative below about 0.01–0.02). */
export const SATURATION: Partial<Record<string, readonly [number, number]>> = { sigmoid: [0.01, 0.99], tanh: [-0.99, 0.99] };

const updateRatio = (updateNorm: number, weightNorm: number): number => (weightNorm > 0 ? updateNorm / weightNorm : updateNorm === 0 ? 0 : Infinity);

/**
 * The statistics of one layer's output ([rows, units], row-major) as the compiled collector
 * computes them; the float64 interpreter calls this, and tests hold the compiled values to it.
 */
export function layerDiagnostics(activation: string, values: ArrayLike<number>, rows: number, units: number): LayerDiagnostics {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    squares += values[i]! ** 2;
  }
  const mean = sum / values.length;
  const std = Math.sqrt(Math.max(0, squares / values.length - mean * mean));
  let extra: { deadFraction?: number; saturatedFraction?: number } = {};
  if (activation === 'relu') {
    let dead = 0;
    for (let j = 0; j < units; j++) {
      let alive = false;
      for (let i = 0; i < rows && !alive; i++) alive = values[i * units + j]! > 0;
      if (!alive) dead++;
    }
    extra = { deadFraction: dead / units };
  }
  const bounds = SATURATION[activation];
  if (bounds) {
    let saturated = 0;
    for (let i = 0; i < values.length; i++) if (values[i]! < bounds[0] || values[i]! > bounds[1]) saturated++;
    extra = { saturatedFraction: saturated / values.length };
  }
  return { activation, mean, std, ...extra };
}

/** A parameter's statistics from its gradient, its value before the step and after it. */
export function paramDiagnostics(grad: ArrayLike<number>, before: ArrayLike<number>, after: ArrayLike<number>): ParamDiagnostics {
  let g = 0;
  let w = 0;
  let d = 0;
  for (let i = 0; i < before.length; i++) {
    g += grad[i]! ** 2;
    w += before[i]! ** 2;
    d += (after[i]! - before[i]!) ** 2;
  }
  return { gradNorm: Math.sqrt(g), weightNorm: Math.sqrt(w), updateRatio: updateRatio(Math.sqrt(d), Math.sqrt(w)) };
}

/** The telemetry of the last guarded step, from the trainer's memory; undefined without `diagnostics: true`. */
export function readDiagnostics(manifest: Manifest, buffer: ArrayBuffer): Diagnostics | undefined {
  const d = manifest.diagnostics;
  if (!d) return undefined;
  const values = new Float32Array(buffer, d.offset, d.bytes / 4);
  const P = d.paramStats.length;
  const L = d.layerStats.length;
  const params = Object.fromEntries(
    d.params.map((name, k) => {
      const [gradNorm, weightNorm, updateNorm] = [values[P * k]!, values[P * k + 1]!, values[P * k + 2]!];
      return [name, { gradNorm, weightNorm, updateRatio: updateRatio(updateNorm, weightNorm) }];
    }),
  );
  const base = P * d.params.length;
  const layers = Object.fromEntries(
    d.layers.map((layer, k) => {
      const at = base + L * k;
      const dead = values[at + 2]!;
      const saturated = values[at + 3]!;
      return [
        layer.name,
        {
          activation: layer.activation,
          mean: values[at]!,
          std: values[at + 1]!,
          ...(Number.isNaN(dead) ? {} : { deadFraction: dead }),
          ...(Number.isNaN(saturated) ? {} : { saturatedFraction: saturated }),
        },
      ];
    }),
  );
  return { params, layers };
}

/** Per-epoch means of every statistic over the epoch's steps. */
export class DiagnosticsMean {
  private sum: Diagnostics | undefined;
  private count = 0;

  add(d: Diagnostics): void {
    this.count++;
    if (!this.sum) {
      this.sum = structuredClone(d);
      return;
    }
    const add = (target: object, source: object): void => {
      for (const [key, value] of Object.entries(source)) {
        if (typeof value === 'number') (target as Record<string, number>)[key]! += value;
      }
    };
    for (const [name, p] of Object.entries(d.params)) add(this.sum.params[name]!, p);
    for (const [name, l] of Object.entries(d.layers)) add(this.sum.layers[name]!, l);
  }

  mean(): Diagnostics | undefined {
    if (!this.sum) return undefined;
    const scale = (o: object): object =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? v / this.count : v]));
    return {
      params: Object.fromEntries(Object.entries(this.sum.params).map(([k, v]) => [k, scale(v) as ParamDiagnostics])),
      layers: Object.fromEntries(Object.entries(this.sum.layers).map(([k, v]) => [k, scale(v) as LayerDiagnostics])),
    };
  }
}
