// The plain `train_step`'s updates fused into the weight-gradient GEMM: where an in-place update
// is an elementwise expression of one GEMM's result (the gradient dYᵀ·X), its own target and
// scalars (plain SGD: w − η·g, with or without L2 decay or a schedule), the GEMM's epilogue
// computes the new weights from its accumulators and stores them over the old ones: no gradient
// stored, no second pass over the parameters. Only `train_step` runs these: `gradients()`, the
// guard and the telemetry read the gradient, and the guard must check it before any weight is
// written; after `train_step` the gradient buffers of fused layers hold nothing meaningful.
// Only at small batches (FUSED_UPDATE_MAX_BATCH), where the pass over the parameters is most of
// what a step costs beyond the products. Plain SGD (w − η·g) is stored as w + (−η)·g, one
// multiply-add per vector of weights.
//
// The GEMM then runs where the gradient's kernel ran, earlier than the update's: every other
// kernel that reads the old weights must come before it, and the scalars it reads must be made.
import type { Dim, Graph, NodeId } from '../ir/types.ts';
import { sameShape } from '../ir/types.ts';
import { STEP } from '../../runtime/ports.ts';
import { bufferOf, kernelInputs, type Kernel, type Program } from '../passes/fuse.ts';
import { f32Literal } from './elementwise.ts';
import { expressionTemplate } from './expression.ts';
import type { GemmEpilogue } from './gemm.ts';
import { emitMatmul, takesEpilogue } from './matmul.ts';
import type { MemoryPlan } from './plan.ts';
import { KernelParams, type KernelCode } from './kernel_table.ts';

export interface FusedUpdate {
  /** The weight-gradient GEMM kernel (its output: the gradient, no longer stored). */
  readonly gemm: NodeId;
  /** The update kernel it replaces. */
  readonly update: NodeId;
  readonly target: NodeId;
}

/**
 * The largest compiled batch at which the fused form is used. Against the same updates in place
 * but unfused (`npm run bench:ab`, docs/architecture.md): W1 at batch 1 ×0.73–0.74, at batch 16
 * ×0.98; at batch 32 and more the epilogue's read-modify-write of the weights, a column panel at
 * a time, costs more than the streaming pass it replaces (W2 ×1.12, W1/64 ×1.05–1.08).
 */
export const FUSED_UPDATE_MAX_BATCH = 16;

/** The in-place updates the weight-gradient GEMM can take over, by the GEMM's kernel. */
export function fusedUpdates(program: Program, plan: MemoryPlan, batchSize: number): Map<NodeId, FusedUpdate> {
  const { graph } = program;
  if (batchSize > FUSED_UPDATE_MAX_BATCH) return new Map();
  const position = new Map(program.kernels.map((k, t) => [k.out, t]));
  // A reshape that is no kernel (fuse.ts, aliases) is read in its operand's buffer: its readers read that.
  const buffer = (id: NodeId): NodeId => bufferOf(program, id);
  const readers = (id: NodeId): Kernel[] => program.kernels.filter((k) => kernelInputs(graph, k).some((i) => buffer(i) === id));
  const fused = new Map<NodeId, FusedUpdate>();
  for (const [update, target] of plan.inPlace) {
    const kernel = program.kernels[position.get(update)!]!;
    const leaves = kernelInputs(graph, kernel);
    const grads = leaves.filter((i) => i !== target && graph.nodes[i]!.shape.length > 0);
    if (grads.length !== 1 || readers(update).length > 0) continue;
    const g = graph.nodes[grads[0]!]!;
    const gemm = program.kernels[position.get(g.id) ?? -1];
    if (!gemm || gemm.kind !== 'node' || g.op !== 'matmul' || !sameShape(g.shape, graph.nodes[target]!.shape)) continue;
    if (!takesEpilogue(g.inputs.map((i) => graph.nodes[i]!), g, g.attrs)) continue;
    // The gradient read by this update alone; the target's other readers and the scalars' makers before the GEMM.
    if (readers(g.id).some((k) => k.out !== update)) continue;
    if (readers(target).some((k) => k.out !== update && position.get(k.out)! > position.get(gemm.out)!)) continue;
    const scalars = leaves.filter((i) => i !== target && i !== g.id);
    const made = (i: NodeId): boolean => !position.has(buffer(i)) || position.get(buffer(i))! < position.get(gemm.out)!;
    if (!scalars.every((i) => made(i) && !isCounter(graph, i))) continue;
    if (!expressionTemplate(graph, new Set(kernel.holds), update, leaves).simd) continue;
    fused.set(gemm.out, { gemm: gemm.out, update, target });
  }
  return fused;
}

/** The scalar s of an update that is w − s·g (or w − g·s) over its target w and gradient g, else undefined. */
function sgdRate(graph: Graph, kernel: Kernel, update: NodeId, target: NodeId, gradient: NodeId): NodeId | undefined {
  const root = graph.nodes[update]!;
  const step = root.op === 'sub' && root.inputs[0] === target && kernel.holds.includes(root.inputs[1]!) ? graph.nodes[root.inputs[1]!]! : undefined;
  if (step?.op !== 'mul' || !step.inputs.includes(gradient)) return undefined;
  const rate = step.inputs[0] === gradient ? step.inputs[1]! : step.inputs[0]!;
  return rate !== gradient && !kernel.holds.includes(rate) && graph.nodes[rate]!.shape.length === 0 ? rate : undefined;
}

function isCounter(graph: Graph, id: NodeId): boolean {
  const node = graph.nodes[id]!;
  return node.op === 'state' && node.attrs['name'] === STEP;
}

/**
 * The weight gradient's product, its epilogue the update, stored over the weights: a kernel-table
 * function (kernel_table.ts, role 'fused') whose addresses are parameters, so the layers of one
 * shape share it.
 */
export function emitFusedUpdate(program: Program, plan: MemoryPlan, fused: FusedUpdate, dim: (d: Dim) => string, batchSize: number): KernelCode {
  const { graph } = program;
  const kernel = program.kernels.find((k) => k.out === fused.update)!;
  const g = graph.nodes[fused.gemm]!;
  if (g.op !== 'matmul') throw new Error(`internal: fused update of %${fused.update} over ${g.op} %${g.id}`);
  const leaves = kernelInputs(graph, kernel);
  const template = expressionTemplate(graph, new Set(kernel.holds), fused.update, leaves);
  const params = new KernelParams();
  const address = (i: NodeId): string => params.of(String(plan.offsets.get(i)!));
  const scalars = leaves.filter((i) => i !== fused.target && i !== g.id);
  // Named by position, not node id, so equal updates of other layers have equal code.
  const names = new Map(scalars.map((i, k) => [i, `s${k}`]));
  const setup = scalars.map((i) => {
    const node = graph.nodes[i]!;
    return node.op === 'constant' ? `const ${names.get(i)!} = f32x4.splat(${f32Literal(node.attrs.value)});` : `const ${names.get(i)!} = f32x4.splat(load<f32>(${address(i)}));`;
  });
  // Plain SGD, w − s·g, is stored as w + (−s)·g: one multiply-add over the weights (relaxed
  // SIMD fuses it; the baseline's product and sum round as w − s·g does, to the same bits).
  const rate = sgdRate(graph, kernel, fused.update, fused.target, g.id);
  const epilogue: GemmEpilogue =
    rate === undefined
      ? { setup, combine: (value, old) => template.simd!(...leaves.map((i) => (i === g.id ? value : i === fused.target ? old : names.get(i)!))) }
      : { setup: [...setup, `const descent = f32x4.neg(${names.get(rate)!});`], combine: (value, old) => `madd(descent, ${value}, ${old})` };
  const body = emitMatmul(
    { node: g, inputs: g.inputs.map((i) => graph.nodes[i]!), out: address(fused.target), ins: g.inputs.map(address), attrs: g.attrs, dim, scratch: plan.scratch.has(g.id) ? params.of(String(plan.scratch.get(g.id)!)) : '0', batchSize },
    epilogue,
  );
  const header = `// %${g.id} with the update %${fused.update} in its epilogue, over the weights %${fused.target} (train_step only)`;
  return { header, body, args: params.values };
}
