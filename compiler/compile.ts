// spec → training graph → memory plan → AssemblyScript → .wasm with its manifest.
import { loadTrainer, type LoadOptions, type Trainer } from '../runtime/trainer.ts';
import { sha256Hex } from '../runtime/hash.ts';
import { relaxedSimd } from '../runtime/relaxed_simd.ts';
import { product } from '../runtime/tensor.ts';
import { ABI_VERSION, MANIFEST_SECTION, RELAXED_SECTION, THREADED_RELAXED_SECTION, THREADED_SECTION, type Manifest, type Placed } from '../runtime/manifest.ts';
import { gradientPorts, LOSS, STEP } from '../runtime/ports.ts';
import { trainingGraphOf } from './train/graph.ts';
import { compileAssemblyScript, kernelExports, type SimdFlavour } from './codegen/asc.ts';
import { emitModule, type EmittedModule } from './codegen/emit.ts';
import { DEFAULT_MIN_PART_WORK, partedProducts, THREADS_BLOCK_BYTES, type ThreadsLayout } from './codegen/threaded.ts';
import { guardLayout, type GuardLayout } from './codegen/guard.ts';
import { diagnosticsLayout, LAYER_STATS, PARAM_STATS, pinActivations, type DiagnosticsLayout } from './codegen/diagnostics.ts';
import { layerOutputs } from './model/layer-output.ts';
import { ARENA_START, planMemory, type MemoryPlan } from './codegen/plan.ts';
import { appendCustomSection } from './codegen/section.ts';
import { fuse, unfused, type Program } from './passes/fuse.ts';
import { updateInPlace } from './passes/in_place.ts';
import { simplify } from './passes/simplify.ts';
import { findPort, type Graph, type NodeId } from './ir/types.ts';
import { lowerModel, type LoweredModel } from './model/lower.ts';
import { parseSpec } from './model/spec.ts';
import { SpecError } from './model/spec_error.ts';
import { signatureOf } from './model/signature.ts';
import { NABLA_VERSION } from './version.ts';
import { hyperparametersOf } from './optim/hyperparameters.ts';

export { NABLA_VERSION };
const PAGE = 65536;

/** What `compileToWasm` returns: the trainer's `.wasm` (load it with `loadTrainer`) and what it was built from. */
export interface CompileResult {
  readonly wasm: Uint8Array<ArrayBuffer>;
  readonly manifest: Manifest;
  /** The training graph that was compiled. */
  readonly graph: Graph;
  /** The generated AssemblyScript. */
  readonly source: string;
  /** The threaded builds' AssemblyScript (compiled with `threaded: true`). */
  readonly threadedSource?: string;
  readonly plan: MemoryPlan;
  /** The kernels the module runs, and the ops each holds. */
  readonly program: Program;
  readonly timings: { readonly totalMs: number; readonly ascMs: number };
}

interface Extras {
  readonly guard: GuardLayout;
  readonly diagnostics: DiagnosticsLayout | undefined;
}

function buildManifest(model: LoweredModel, graph: Graph, plan: MemoryPlan, pages: number, simd: SimdFlavour, { guard, diagnostics }: Extras): Manifest {
  const placed = (name: string, id: NodeId): Placed => ({ name, offset: plan.offsets.get(id)!, bytes: plan.sizes.get(id)! });
  const output = (name: string): NodeId => findPort(graph.outputs, name)!.id;
  const input = (name: string): NodeId => findPort(graph.inputs, name)!.id;
  return {
    format: 'nabla-trainer',
    abiVersion: ABI_VERSION,
    nablaVersion: NABLA_VERSION,
    simd,
    ...signatureOf(model),
    hyperparameters: hyperparametersOf(graph),
    exports: { init: 'init', trainStep: 'train_step', gradients: 'gradients', evaluate: 'evaluate', predict: 'predict', trainStepChecked: 'train_step_checked' },
    buffers: {
      input: placed(model.input.name, input(model.input.name)),
      labels: placed(model.labels.name, input(model.labels.name)),
      prediction: placed(model.prediction.name, output(model.prediction.name)),
      loss: placed(LOSS, output(LOSS)),
      inputs: model.inputs.map((t) => placed(t.name, input(t.name))),
      targets: model.outputs.map((o) => placed(o.labels.name, input(o.labels.name))),
      predictions: model.outputs.map((o) => placed(o.prediction.name, output(o.prediction.name))),
      losses: model.outputs.map((o) => placed(o.lossPort ?? LOSS, output(o.lossPort ?? LOSS))),
      params: graph.params.map((p) => placed(p.name, p.id)),
      grads: gradientPorts(graph).map((g) => placed(g.param, g.id)),
      // The step counter is a u32 in memory (codegen/counter.ts).
      state: (graph.state ?? []).map((s) => (s.name === STEP ? { ...placed(s.name, s.id), dtype: 'u32' as const } : placed(s.name, s.id))),
      guard: { name: 'guard', offset: guard.offset, bytes: guard.bytes },
    },
    guard: { checks: guard.checks },
    ...(diagnostics ? { diagnostics: { ...diagnostics, paramStats: PARAM_STATS, layerStats: LAYER_STATS } } : {}),
    memory: { arenaBytes: plan.end, pages, peakBytes: plan.end - ARENA_START, unsharedBytes: plan.unsharedBytes - ARENA_START, minimumBytes: plan.minimum.bytes },
    spec: model.spec,
  };
}

/**
 * wasm32 addresses 4 GiB (65536 pages of 64 KiB); the trainer's memory is the planned arena plus
 * a page. A bigger model is refused here, naming the limit, rather than failing inside
 * AssemblyScript with i64-to-usize conversion errors. (A memory64 build would lift it.)
 */
export const MAX_MEMORY_BYTES = 65536 * PAGE;

function checkMemoryLimit(model: LoweredModel, bytes: number): void {
  if (bytes <= MAX_MEMORY_BYTES) return;
  const gib = (b: number): string => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(2)} MiB`);
  const biggest = [...model.params]
    .map((p) => ({ name: p.name, bytes: 4 * product(p.shape) }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 3)
    .map((p) => `${p.name} ${gib(p.bytes)}`);
  throw new SpecError(
    `model too large: the trainer needs ${gib(bytes)} of memory (parameters, gradients, optimizer state and activations at batchSize ${model.spec.batchSize}), ` +
      `above the wasm32 limit of 4 GiB (65536 pages of 64 KiB); largest parameters: ${biggest.join(', ')}. Use fewer units or a smaller batchSize`,
  );
}

export interface CompileOptions {
  /** Fuse kernels (default). `false` runs one kernel per node: the reference the fusion tests compare with. */
  readonly fuse?: boolean;
  /**
   * 'both' (default): the baseline SIMD build carries a relaxed-SIMD build (f32x4.relaxed_madd) in
   * its `nabla.relaxed` section, which loadTrainer runs where the host validates it.
   */
  readonly simd?: 'baseline' | 'both';
  /**
   * Compile in gradient-flow telemetry (per-parameter gradient, weight and update norms, per-layer
   * activation statistics, every checked step). Default false; off, nothing of it is generated.
   */
  readonly diagnostics?: boolean;
  /**
   * Also build the trainer's threaded builds (an imported shared memory; products split over
   * worker threads), carried in its `nabla.threaded` sections beside the single-threaded builds,
   * which stay import-free. `loadTrainer(wasm, { threads })` runs them. Default false.
   */
  readonly threaded?: boolean;
  /** Called as each stage of the compile begins, with its name (a progress line; `nabla train` shows it). */
  readonly onStage?: (stage: CompileStage) => void;
}

/** The stages of compileToWasm, in order; `asc` runs once per SIMD build. */
export type CompileStage = 'lower' | 'autodiff' | 'fuse' | 'plan' | 'emit' | 'asc relaxed' | 'asc baseline' | 'asc threaded relaxed' | 'asc threaded baseline';

/** Compiles a model spec (JSON value or builder output) to a trainer .wasm and its manifest. */
export async function compileToWasm(specInput: unknown, options: CompileOptions = {}): Promise<CompileResult> {
  const started = performance.now();
  const stage = options.onStage ?? ((): void => {});
  stage('lower');
  const model = lowerModel(parseSpec(specInput));
  stage('autodiff');
  const simplified = simplify(trainingGraphOf(model));
  // Telemetry reads every layer's activations at the end of the step: pinned, they keep their buffers.
  const layers = options.diagnostics ? layerOutputs(simplified, model.spec) : [];
  const graph = options.diagnostics ? pinActivations(simplified, layers) : simplified;
  stage('fuse');
  // Telemetry compares each new weight with the old one: with it on, trained parameters keep their update buffers.
  const kept = new Set(options.diagnostics ? gradientPorts(graph).map((p) => p.param) : []);
  const program = updateInPlace(options.fuse === false ? unfused(graph) : fuse(graph), kept);
  stage('plan');
  const plan = planMemory(program, model.spec.batchSize);
  // The guard's status word and norms, then the telemetry block, sit right after the planned arena.
  const guard = guardLayout(graph, Math.ceil(plan.end / 16) * 16);
  const diagnostics = options.diagnostics ? diagnosticsLayout(graph, layers, Math.ceil((guard.offset + guard.bytes) / 16) * 16) : undefined;
  const afterGuard = diagnostics ? diagnostics.offset + diagnostics.bytes : guard.offset + guard.bytes;
  // The threaded builds' control block next, outside every data segment (codegen/threaded.ts).
  const threads: ThreadsLayout | undefined = options.threaded ? { offset: Math.ceil(afterGuard / 64) * 64, bytes: THREADS_BLOCK_BYTES } : undefined;
  const end = threads ? threads.offset + threads.bytes : afterGuard;
  stage('emit');
  const extras = { guard, ...(diagnostics ? { diagnostics } : {}) };
  const { source, staticBytes: singleStaticBytes } = emitModule(model, program, plan, kernelExports(), extras);
  const threadedModule = threads ? emitModule(model, program, plan, kernelExports(), { ...extras, threads }) : undefined;
  const staticBytes = Math.max(singleStaticBytes, threadedModule?.staticBytes ?? 0);
  const memoryBase = Math.ceil(end / 16) * 16;
  // Above the arena: the module's static data (kernel table, constants), and one page of headroom
  // for AssemblyScript's own.
  const pages = Math.ceil((memoryBase + staticBytes) / PAGE) + 1;
  checkMemoryLimit(model, pages * PAGE);
  const build = async (simd: SimdFlavour, bound: Pick<Manifest, 'relaxedSha256' | 'threadedSha256'> = {}) => {
    stage(`asc ${simd}`);
    const { binary, milliseconds } = await compileAssemblyScript(source, { memoryBase, initialPages: pages, simd });
    const manifest: Manifest = { ...buildManifest(model, graph, plan, pages, simd, { guard, diagnostics }), ...bound };
    return { wasm: appendCustomSection(binary, MANIFEST_SECTION, new TextEncoder().encode(JSON.stringify(manifest))), manifest, milliseconds };
  };
  const buildThreaded = async (simd: SimdFlavour, layout: ThreadsLayout, { source: threadedSource, partedKernels }: EmittedModule) => {
    stage(`asc threaded ${simd}`);
    const { binary, milliseconds } = await compileAssemblyScript(threadedSource, { memoryBase, initialPages: pages, simd, threaded: true });
    const manifest: Manifest = {
      ...buildManifest(model, graph, plan, pages, simd, { guard, diagnostics }),
      threads: { ...layout, ...partedProducts(program, model.spec.batchSize), partedKernels, minPartWork: DEFAULT_MIN_PART_WORK },
    };
    return { wasm: appendCustomSection(binary, MANIFEST_SECTION, new TextEncoder().encode(JSON.stringify(manifest))), milliseconds };
  };
  // The embedded builds first: the baseline's manifest binds each by its hash (checked by loadTrainer).
  const relaxed = options.simd === 'baseline' ? undefined : await build('relaxed');
  const threadedRelaxed = threads && threadedModule && relaxed ? await buildThreaded('relaxed', threads, threadedModule) : undefined;
  const threadedBaseline = threads && threadedModule ? await buildThreaded('baseline', threads, threadedModule) : undefined;
  const threadedSha256 = threadedBaseline
    ? { baseline: await sha256Hex(threadedBaseline.wasm), ...(threadedRelaxed ? { relaxed: await sha256Hex(threadedRelaxed.wasm) } : {}) }
    : undefined;
  const baseline = await build('baseline', { ...(relaxed ? { relaxedSha256: await sha256Hex(relaxed.wasm) } : {}), ...(threadedSha256 ? { threadedSha256 } : {}) });
  let wasm = relaxed ? appendCustomSection(baseline.wasm, RELAXED_SECTION, relaxed.wasm) : baseline.wasm;
  if (threadedBaseline) wasm = appendCustomSection(wasm, THREADED_SECTION, threadedBaseline.wasm);
  if (threadedRelaxed) wasm = appendCustomSection(wasm, THREADED_RELAXED_SECTION, threadedRelaxed.wasm);
  const manifest = baseline.manifest;
  const ascMs = [baseline, relaxed, threadedBaseline, threadedRelaxed].reduce((ms, b) => ms + (b?.milliseconds ?? 0), 0);
  return { wasm, manifest, graph, source, ...(threadedModule ? { threadedSource: threadedModule.source } : {}), plan, program, timings: { totalMs: performance.now() - started, ascMs } };
}

/**
 * Compiles and loads: the trainer is ready to train, initialised from the spec's seed. Only the
 * build this host runs is compiled: where it has no relaxed SIMD (Node 20), the relaxed build a
 * .wasm file carries for other hosts would never run, and would double the compile time.
 * `threads` (default 1) also compiles the threaded builds and runs them on that many threads
 * (`minPartWork` as in loadTrainer).
 */
export async function compile(specInput: unknown, options: CompileOptions & Pick<LoadOptions, 'threads' | 'minPartWork'> = {}): Promise<Trainer> {
  const threads = options.threads ?? 1;
  const { wasm } = await compileToWasm(specInput, { ...options, simd: options.simd ?? (relaxedSimd() ? 'both' : 'baseline'), threaded: options.threaded ?? threads !== 1 });
  return loadTrainer(wasm, { threads, ...(options.minPartWork !== undefined ? { minPartWork: options.minPartWork } : {}) });
}
