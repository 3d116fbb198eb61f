// spec → training graph → memory plan → AssemblyScript → .wasm with its manifest.
import pkg from '../package.json' with { type: 'json' };
import { loadTrainer, type Trainer } from '../runtime/trainer.ts';
import { ABI_VERSION, MANIFEST_SECTION, type Manifest, type Placed } from '../runtime/manifest.ts';
import { buildTrainingGraph, gradName } from './autodiff/training.ts';
import { compileAssemblyScript, kernelExports } from './codegen/asc.ts';
import { emitModule } from './codegen/emit.ts';
import { guardLayout, type GuardLayout } from './codegen/guard.ts';
import { diagnosticsLayout, LAYER_STATS, PARAM_STATS, type DiagnosticsLayout } from './codegen/diagnostics.ts';
import { planMemory, type MemoryPlan } from './codegen/plan.ts';
import { appendCustomSection } from './codegen/section.ts';
import { findPort, type Graph, type NodeId } from './ir/types.ts';
import { lowerModel, type LoweredModel } from './model/lower.ts';
import { parseSpec } from './model/spec.ts';
import { signatureOf } from './model/signature.ts';

export const NABLA_VERSION: string = pkg.version;
const PAGE = 65536;

export interface CompiledTrainer {
  readonly wasm: Uint8Array<ArrayBuffer>;
  readonly manifest: Manifest;
  /** The training graph that was compiled. */
  readonly graph: Graph;
  /** The generated AssemblyScript. */
  readonly source: string;
  readonly plan: MemoryPlan;
  readonly timings: { readonly totalMs: number; readonly ascMs: number };
}

function buildManifest(model: LoweredModel, graph: Graph, plan: MemoryPlan, guard: GuardLayout, diagnostics: DiagnosticsLayout | undefined, pages: number): Manifest {
  const placed = (name: string, id: NodeId): Placed => ({ name, offset: plan.offsets.get(id)!, bytes: plan.sizes.get(id)! });
  const output = (name: string): NodeId => findPort(graph.outputs, name)!.id;
  const input = (name: string): NodeId => findPort(graph.inputs, name)!.id;
  return {
    format: 'nabla-trainer',
    abiVersion: ABI_VERSION,
    nablaVersion: NABLA_VERSION,
    simd: 'baseline',
    ...signatureOf(model),
    exports: { init: 'init', trainStep: 'train_step', gradients: 'gradients', evaluate: 'evaluate', predict: 'predict', trainStepChecked: 'train_step_checked' },
    buffers: {
      input: placed(model.input.name, input(model.input.name)),
      labels: placed(model.labels.name, input(model.labels.name)),
      prediction: placed('prediction', output('prediction')),
      loss: placed('loss', output('loss')),
      params: graph.params.map((p) => placed(p.name, p.id)),
      grads: graph.params.map((p) => placed(p.name, output(gradName(p.name)))),
      guard: { name: 'guard', offset: guard.offset, bytes: guard.bytes },
    },
    guard: { checks: guard.checks },
    ...(diagnostics ? { diagnostics: { ...diagnostics, paramStats: PARAM_STATS, layerStats: LAYER_STATS } } : {}),
    memory: { arenaBytes: plan.end, pages },
    spec: model.spec,
  };
}

export interface CompileOptions {
  /**
   * Compile in gradient-flow telemetry (per-parameter gradient, weight and update norms, per-layer
   * activation statistics, every step). Default false; off, the .wasm is exactly as without the option.
   */
  readonly diagnostics?: boolean;
}

/** Compiles a model spec (JSON value or builder output) to a trainer .wasm and its manifest. */
export async function compileToWasm(specInput: unknown, options: CompileOptions = {}): Promise<CompiledTrainer> {
  const started = performance.now();
  const model = lowerModel(parseSpec(specInput));
  const graph = buildTrainingGraph(model.graph, model.spec.optimizer);
  const plan = planMemory(graph, model.spec.batchSize);
  // The guard's status word and norms sit right after the planned arena.
  const guard = guardLayout(graph, Math.ceil(plan.end / 16) * 16);
  const diagnostics = options.diagnostics ? diagnosticsLayout(model, Math.ceil((guard.offset + guard.bytes) / 16) * 16) : undefined;
  const source = emitModule(model, graph, plan, kernelExports(), guard, diagnostics);
  const end = diagnostics ? diagnostics.offset + diagnostics.bytes : guard.offset + guard.bytes;
  const memoryBase = Math.ceil(end / 16) * 16;
  // One page of headroom above the arena for AssemblyScript's own static data.
  const pages = Math.ceil(memoryBase / PAGE) + 1;
  const { binary, milliseconds } = await compileAssemblyScript(source, { memoryBase, initialPages: pages });
  const manifest = buildManifest(model, graph, plan, guard, diagnostics, pages);
  const wasm = appendCustomSection(binary, MANIFEST_SECTION, new TextEncoder().encode(JSON.stringify(manifest)));
  return { wasm, manifest, graph, source, plan, timings: { totalMs: performance.now() - started, ascMs: milliseconds } };
}

/** Compiles and loads: the trainer is ready to train, initialised from the spec's seed. */
export async function compile(specInput: unknown, options: CompileOptions = {}): Promise<Trainer> {
  const { wasm } = await compileToWasm(specInput, options);
  return loadTrainer(wasm);
}
