// The AssemblyScript module of a trainer: the code of each computed node (kernels of equal code
// shared through kernel_table.ts), and the ABI entry points (init, predict, evaluate, gradients,
// train_step) running them in topological order.
import { drawOf, paramStream } from '../init/initializers.ts';
import { ancestors, BATCH, findPort, shapeToString, type Dim, type Graph, type Node, type NodeId } from '../ir/types.ts';
import type { LoweredModel } from '../model/lower.ts';
import { opDef } from '../ops/registry.ts';
import { stateInitial } from '../ops/sources.ts';
import { gradientPorts, LOSS, TRAIN_LOSS } from '../../runtime/ports.ts';
import { kernelInputs, kernelOutputs, type Kernel, type Program } from '../passes/fuse.ts';
import { emitElementwise, emitElementwiseInParts, f32Literal } from './elementwise.ts';
import { elementwiseTemplate, expressionTemplate, type ElementwiseTemplate } from './expression.ts';
import { emitGenerated } from './generators.ts';
import { emitInit, type InitRow } from './init.ts';
import { emitMatmul, matmulWork } from './matmul.ts';
import type { MemoryPlan } from './plan.ts';
import { emitGuardedStep, type GuardLayout } from './guard.ts';
import { emitCommit } from './counter.ts';
import { emitFusedUpdate, fusedUpdates } from './fused_update.ts';
import { KernelParams, KernelTable, tableKey, type KernelCode } from './kernel_table.ts';
import { emitDiagnostics, type DiagnosticsLayout } from './diagnostics.ts';
import { elementwiseCost, emitThreadedDispatch, partedProduct, unitsWork, type ThreadsLayout } from './threaded.ts';

/** Names the generated module imports from each file of assembly/. */
export interface KernelExports {
  readonly [file: string]: readonly string[];
}

const dim = (d: Dim): string => (d === BATCH ? 'n' : String(d));

/** Kernels that `wanted` needs, in program order. */
function schedule(program: Program, wanted: readonly NodeId[]): Kernel[] {
  const { graph } = program;
  const needed = ancestors(graph.nodes, wanted);
  return program.kernels.filter((k) => needed.has(k.out));
}

/** A fused elementwise tree as one elementwise template over the kernel's inputs. */
function treeTemplate(graph: Graph, kernel: Kernel, leaves: readonly NodeId[]): ElementwiseTemplate {
  return expressionTemplate(graph, new Set(kernel.holds), kernel.out, leaves);
}

/**
 * `finite<id>`: whether every element of an update value written in place would be finite,
 * computed from the old values and stored nowhere (the guard asks before anything is written). A
 * value that reads another in-place value (Adam's weight reads its new moments) recomputes that one
 * too, since its buffer still holds the old value at that point. Its addresses are parameters, so
 * the updates of equal code share one check function of the kernel table.
 */
function finiteCheck(program: Program, plan: MemoryPlan, kernelOf: ReadonlyMap<NodeId, Kernel>, value: NodeId): KernelCode {
  const { graph } = program;
  const held = new Set<NodeId>();
  const take = (id: NodeId): void => {
    const kernel = kernelOf.get(id)!;
    kernel.holds.forEach((h) => held.add(h));
    for (const i of kernelInputs(graph, kernel)) if (plan.inPlace.has(i)) take(i);
  };
  take(value);
  const leaves = [...new Set([...held].flatMap((id) => graph.nodes[id]!.inputs))].filter((i) => !held.has(i));
  const params = new KernelParams();
  const operand = (i: NodeId): string => (graph.nodes[i]!.op === 'constant' ? 'literal' : params.of(String(plan.offsets.get(i)!)));
  const template = expressionTemplate(graph, held, value, leaves);
  const body = emitElementwise(template, graph.nodes[value]!, leaves.map((i) => graph.nodes[i]!), '0', leaves.map(operand), dim, undefined, 'finite');
  return { header: `// whether %${value} (written in place) would be finite`, body, args: params.values };
}

/** A value with a buffer of its own is checked where it lies: its address and f32 count as the arguments. */
function storedCheck(plan: MemoryPlan, value: NodeId): KernelCode {
  const args = [String(plan.offsets.get(value)!), String(plan.sizes.get(value)! / 4)];
  return { header: `// whether the stored %${value} is finite`, body: '  return all_finite(a0, <i32>a1);', args };
}

/**
 * Constants have no arena buffer: elementwise code inlines them as literals. A kernel that reads
 * memory (reshape or sum of the autodiff seed 1, say) gets the constant's static data instead:
 * `constant_<f32 bits>`, a pointer into the module's data segment, above the arena.
 */
function constantData(node: Node): string {
  return `const ${constantName(node)} = memory.data<f32>([${f32Literal(constantValue(node))}]);`;
}

function constantValue(node: Node): number {
  if (node.op !== 'constant') throw new Error(`internal: %${node.id} (${node.op}) read as a constant`);
  return node.attrs.value;
}

/** Named by its value, so kernels that read equal constants keep the same code (and share it). */
function constantName(node: Node): string {
  const bits = new Uint32Array(new Float32Array([constantValue(node)]).buffer)[0]!;
  return `constant_${bits.toString(16).padStart(8, '0')}`;
}

function emitKernel(program: Program, plan: MemoryPlan, kernel: Kernel, constantsRead: Set<NodeId>, batchSize: number, threaded: boolean): KernelCode {
  const { graph } = program;
  const node = graph.nodes[kernel.out]!;
  const params = new KernelParams();
  const address = (i: NodeId): string => {
    const offset = plan.offsets.get(i);
    if (offset !== undefined) return params.of(String(offset));
    if (graph.nodes[i]!.op !== 'constant') throw new Error(`internal: %${i} (${graph.nodes[i]!.op}) has no buffer but kernel %${kernel.out} reads it`);
    constantsRead.add(i);
    return constantName(graph.nodes[i]!);
  };
  // Elementwise code reads a constant operand as a literal, never through an address.
  const operand = (i: NodeId): string => (graph.nodes[i]!.op === 'constant' ? 'literal' : address(i));
  // A kernel that computes its readers writes their buffers instead of its own ('0': unused).
  const out = kernel.kind === 'node' && kernel.readers ? '0' : address(kernel.out);
  const scratchOffset = plan.scratch.get(kernel.out);
  const scratch = scratchOffset === undefined ? '0' : params.of(String(scratchOffset));
  const header = [...new Set([...kernel.holds, ...kernelOutputs(kernel)])]
    .map((id) => {
      const n = graph.nodes[id]!;
      return `// %${id} = ${n.op}(${n.inputs.map((i) => `%${i}`).join(', ')}) ${shapeToString(n.shape)}${n.label ? `  ${n.label}` : ''}`;
    })
    .join('\n');
  let body: string;
  // Threaded build: a product the GEMM generator runs, forward or backward, may run in parts (codegen/threaded.ts),
  // and so may the kernels below that say how.
  const product = threaded ? partedProduct(program, kernel) : undefined;
  const work = product ? matmulWork(product.inputs.map((i) => graph.nodes[i]!), product, product.attrs, dim) : null;
  let parts = work === null ? undefined : { work };
  /** An elementwise loop: in parts where the threaded build gains from that, else whole. */
  const elementwiseBody = (template: ElementwiseTemplate, inputs: readonly Node[], operands: readonly string[], sums?: string): string => {
    const cost = threaded && template.simd ? elementwiseCost(template.simd(...operands.map((_, k) => `x${k}`))) : 0;
    const inParts = cost > 0 ? emitElementwiseInParts([template, node, inputs, out, operands, dim], sums) : null;
    if (inParts === null) return emitElementwise(template, node, inputs, out, operands, dim, sums);
    parts = { work: unitsWork(node.shape.map(dim).join(' * ') || '1', cost) };
    return inParts;
  };
  if (kernel.kind === 'gemm') {
    const mm = graph.nodes[kernel.matmul]!;
    if (mm.op !== 'matmul') throw new Error(`internal: gemm kernel %${kernel.out} holds ${mm.op} %${mm.id}, not a matmul`);
    const inputs = mm.inputs.map((i) => graph.nodes[i]!);
    const act = kernel.activation === undefined ? undefined : elementwiseTemplate(kernel.activation).simd!;
    // A kept pre-activation is the product's C; the activation then goes to the kernel's output.
    const kept = kernel.preActivation === undefined ? undefined : address(kernel.preActivation);
    const actTemplate = kernel.activation === undefined ? undefined : opDef(kernel.activation).template;
    const paired = actTemplate?.kind === 'elementwise' ? actTemplate.withDerivative : undefined;
    if (kernel.derivative !== undefined && paired === undefined) throw new Error(`internal: gemm kernel %${kernel.out} stores a derivative its activation has no form for`);
    const epilogue = {
      ...(kernel.bias !== undefined ? { bias: address(kernel.bias) } : {}),
      ...(act ? { activation: act } : {}),
      ...(kept ? { activationOut: out } : {}),
      ...(kernel.residual !== undefined ? { residual: address(kernel.residual) } : {}),
      ...(kernel.derivative !== undefined ? { derivativeOut: address(kernel.derivative), withDerivative: paired!.simd } : {}),
    };
    body = emitMatmul({ node: mm, inputs, out: kept ?? out, ins: mm.inputs.map(address), attrs: mm.attrs, dim, scratch, batchSize }, epilogue, parts !== undefined);
  } else if (kernel.kind === 'elementwise') {
    const leaves = kernelInputs(graph, kernel);
    const sums = kernel.columnSums === undefined ? undefined : address(kernel.columnSums);
    body = elementwiseBody(treeTemplate(graph, kernel, leaves), leaves.map((i) => graph.nodes[i]!), leaves.map(operand), sums);
  } else {
    const def = opDef(node.op);
    const inputs = node.inputs.map((i) => graph.nodes[i]!);
    switch (def.template.kind) {
      case 'elementwise':
        body = elementwiseBody(def.template, inputs, node.inputs.map(operand));
        break;
      case 'kernel': {
        const block = program.blocks?.get(kernel.out);
        const outRow = block === undefined ? {} : { outRow: graph.nodes[block.into]!.shape.at(-1) as number };
        const args = { node, inputs, out, ins: node.inputs.map(address), attrs: node.attrs, dim, scratch, ...outRow };
        const units = threaded && def.template.parts ? def.template.parts.units(args) : undefined;
        if (kernel.readers) {
          if (!def.template.fusedReaders) throw new Error(`internal: %${kernel.out} (${node.op}) has no fused readers`);
          const readers = new Map(kernel.readers.map((r) => [graph.nodes[r]!.op, { out: address(r), ins: graph.nodes[r]!.inputs.map((i) => (i === kernel.out ? '0' : address(i))) }]));
          body = `  ${def.template.fusedReaders.emit(args, readers)}`;
        } else if (units && def.template.parts) {
          // Part p computes units [part_first(p), part_first(p + 1)); part −1 has nothing to do.
          const { count, group, cost } = units;
          parts = { work: unitsWork(count, cost) };
          body = [
            `  if (part < 0) return;`,
            `  const units = ${count};`,
            `  const first = part_first(units, ${group}, part, parts);`,
            `  ${def.template.parts.emit(args, 'first', `part_first(units, ${group}, part + 1, parts) - first`)}`,
          ].join('\n');
        } else body = `  ${def.template.emit(args)}`;
        break;
      }
      case 'generated':
        body = `  ${emitGenerated({ node, inputs, out, ins: node.inputs.map(address), attrs: node.attrs, dim, scratch, batchSize }, parts !== undefined)}`;
        break;
      case 'source':
        throw new Error(`internal: source node %${kernel.out} scheduled`);
    }
  }
  return { header, body, args: params.values, ...(parts ? { parts } : {}) };
}

/** The module's source, and the bytes of static data it places above the arena (the kernel table, constants). */
export interface EmittedModule {
  readonly source: string;
  readonly staticBytes: number;
  /** Threaded build: the kernels of a training step that may run in parts (products and others). */
  readonly partedKernels: number;
}

/** What the module carries beyond the plain entry points: the non-finite guard, and telemetry with `diagnostics: true`. */
export interface ModuleExtras {
  readonly guard?: GuardLayout;
  readonly diagnostics?: DiagnosticsLayout;
  /** The threaded build: its control block. Its products run in parts on worker threads. */
  readonly threads?: ThreadsLayout;
}

export function emitModule(model: LoweredModel, program: Program, plan: MemoryPlan, kernels: KernelExports, extras: ModuleExtras = {}): EmittedModule {
  const { graph } = program;
  const B = model.spec.batchSize;
  const port = (name: string): NodeId => findPort(graph.outputs, name)!.id;
  const predictions = model.outputs.map((o) => port(o.prediction.name));
  const loss = port(LOSS);
  const grads = gradientPorts(graph).map((g) => g.id);
  // gradients and train_step differentiate, and return, the training pass's loss where there is one.
  const trainLoss = findPort(graph.outputs, TRAIN_LOSS)?.id ?? loss;
  const updates = graph.updates.map((u) => u.value);

  const imports = Object.entries(kernels).map(([file, names]) => `import { ${names.join(', ')} } from './${file}';`);
  const computed = schedule(program, [...predictions, loss, trainLoss, ...grads, ...updates]);
  const constantsRead = new Set<NodeId>();
  const table = new KernelTable();
  const inParts = new Set<NodeId>();
  for (const k of computed) {
    const code = emitKernel(program, plan, k, constantsRead, B, extras.threads !== undefined);
    if (code.parts) inParts.add(k.out);
    table.add('kernel', k.out, code);
  }
  const kernelKeys = (kernels: readonly Kernel[]): string[] => kernels.map((k) => tableKey('kernel', k.out));
  const calls = (wanted: readonly NodeId[]): string => table.run(kernelKeys(schedule(program, wanted)));
  const guard = `  if (n < 1 || n > ${B}) return NaN;`;
  const lossValue = `  return load<f32>(${plan.offsets.get(loss)!});`;
  const trainLossValue = `  return load<f32>(${plan.offsets.get(trainLoss)!});`;

  const paramRows = model.params.map((p, k): InitRow => {
    const id = findPort(graph.params, p.name)!.id;
    return { name: p.name, draw: drawOf(p), ptr: plan.offsets.get(id)!, count: p.shape.reduce((a, b) => a * b, 1), stream: paramStream(k) };
  });
  // Optimizer state starts at zero, whatever the seed; a hyperparameter at the spec's value.
  const stateRows = (graph.state ?? []).map((s): InitRow => {
    const initial = stateInitial(graph.nodes[s.id]!);
    const count = plan.sizes.get(s.id)! / 4;
    if (initial !== 0 && count !== 1) throw new Error(`internal: state '${s.name}' with an initial value is not a scalar`);
    return { name: s.name, draw: { kind: 'fill', value: initial }, ptr: plan.offsets.get(s.id)!, count, stream: 0 };
  });
  const init = emitInit([...paramRows, ...stateRows]);
  const commit = emitCommit(graph, plan);
  // train_step alone runs the weight-gradient GEMMs that update the weights in their epilogue:
  // table functions of their own role, in the step sequence where the gradient's GEMM was.
  const fused = fusedUpdates(program, plan, B);
  const replaced = new Set([...fused.values()].map((f) => f.update));
  for (const f of fused.values()) table.add('fused', f.gemm, emitFusedUpdate(program, plan, f, dim, B));
  const stepKernels = schedule(program, [...predictions, trainLoss, ...grads, ...updates]);
  const stepKeys = stepKernels
    .filter((k) => !replaced.has(k.out))
    .map((k) => tableKey(fused.has(k.out) ? 'fused' : 'kernel', k.out));
  const inPlaceKernels = program.kernels.filter((k) => plan.inPlace.has(k.out));
  // The step's sequence is stored first: the guard's (the same kernels, the in-place updates last),
  // the gradients' and the forward pass's are usually runs inside it, and are not stored again.
  const trainStep = table.run(stepKeys);
  // The guard's checks of the new values, table functions too (it asks before anything is written).
  const kernelOf = new Map(program.kernels.map((k) => [k.out, k]));
  if (extras.guard) for (const u of updates) table.add('finite', u, plan.inPlace.has(u) ? finiteCheck(program, plan, kernelOf, u) : storedCheck(plan, u));
  const guarded = extras.guard
    ? emitGuardedStep({
        graph,
        plan,
        layout: extras.guard,
        batchSize: B,
        loss: trainLoss,
        predictions,
        // Everything but the in-place updates, which run once every value is known finite.
        calls: (wanted) => [table.run(kernelKeys(schedule(program, wanted).filter((k) => !plan.inPlace.has(k.out))))],
        firstNonFinite: (values) => table.check(values.map((v) => tableKey('finite', v))),
        inPlace: inPlaceKernels.length ? [table.run(kernelKeys(inPlaceKernels))] : [],
        ...(extras.diagnostics ? { beforeCommit: ['  diagnostics_collect(n);'] } : {}),
        commit: commit.statements,
      })
    : undefined;

  const telemetry = extras.diagnostics && extras.guard ? emitDiagnostics(graph, plan, extras.diagnostics, extras.guard.offset + 4) : undefined;
  const entries = [
    init.source,
    '',
    `/** Forward pass on n rows: fills the prediction buffer. Returns 0, or NaN if n is out of range. */`,
    `export function predict(n: i32): f32 {`,
    guard,
    calls(predictions),
    `  return 0;`,
    `}`,
    '',
    `/** Forward pass and loss on n rows. */`,
    `export function evaluate(n: i32): f32 {`,
    guard,
    calls([...predictions, loss]),
    lossValue,
    `}`,
    '',
    `/** Forward, loss and backward on n rows: fills the gradient buffers, updates nothing. */`,
    `export function gradients(n: i32): f32 {`,
    guard,
    calls([...predictions, trainLoss, ...grads]),
    trainLossValue,
    `}`,
    '',
    `/** One optimizer step on n rows. Returns the loss before the update. */`,
    `export function train_step(n: i32): f32 {`,
    guard,
    trainStep,
    ...commit.statements,
    trainLossValue,
    `}`,
    '',
    // Telemetry is collected by the guarded step, after the guard has stored this step's gradient norms.
    ...(telemetry ? [telemetry.source, ''] : []),
    ...(guarded ? [guarded.source, ''] : []),
  ];
  // The table's data holds every sequence the entry points run, so it is written after them.
  const constants = new Set([...constantsRead].map((id) => constantData(graph.nodes[id]!)));
  const source = [
    `// Generated by nabla for model '${model.spec.name}'. Batch dimension n: 1 ≤ n ≤ ${B}.`,
    ...imports,
    '',
    ...constants,
    ...table.code(),
    ...(extras.threads ? ['', ...emitThreadedDispatch(table.partedFunctions(), extras.threads)] : []),
    '',
    ...(commit.definition ? [commit.definition, ''] : []),
    ...entries,
  ].join('\n');
  // The training step's kernels that may run in parts (the guarded step runs each once).
  const partedKernels = stepKernels.filter((k) => inParts.has(k.out)).length;
  return { source, partedKernels, staticBytes: table.dataBytes() + constants.size * 16 + init.staticBytes + (guarded?.staticBytes ?? 0) + (telemetry?.staticBytes ?? 0) + commit.staticBytes };
}
