// The float64 reference interpreter behind the same API as the compiled trainer: it runs the
// very training graph that is compiled, so the two can be compared value for value.
import { ModelRunner, type BatchEngine, type BatchResult } from '../../runtime/runner.ts';
import type { Signature } from '../../runtime/manifest.ts';
import { buildTrainingGraph, gradName } from '../autodiff/training.ts';
import { drawOf, initialValues, paramStream } from '../init/initializers.ts';
import { printGraph } from '../ir/print.ts';
import { tensor64, type Tensor64 } from '../ir/tensor.ts';
import { findPort, type Graph, type NodeId } from '../ir/types.ts';
import { lowerModel, type LoweredModel } from '../model/lower.ts';
import { parseSpec } from '../model/spec.ts';
import { signatureOf } from '../model/signature.ts';
import { evaluateGraph } from './evaluate.ts';

function l2norm(data: Float64Array): number {
  let sum = 0;
  for (const v of data) sum += v * v;
  return Math.sqrt(sum);
}

class InterpreterEngine implements BatchEngine<Float64Array> {
  readonly signature: Signature;
  readonly training: Graph;
  private readonly params = new Map<string, Float64Array>();
  /** Gradient norms of the last step whose values were all finite, for the non-finite guard. */
  private lastNorms: ReadonlyMap<string, number> | null = null;

  constructor(readonly model: LoweredModel) {
    this.signature = signatureOf(model);
    this.training = buildTrainingGraph(model.graph, model.spec.optimizer);
    this.init(model.spec.seed);
  }

  init(seed: number): void {
    this.model.params.forEach((p, k) => {
      const size = p.shape.reduce((a, b) => a * b, 1);
      this.params.set(p.name, initialValues(drawOf(p), size, seed, paramStream(k)));
    });
  }

  readParam(name: string): Float64Array {
    return this.params.get(name)!.slice();
  }

  writeParams(values: ReadonlyMap<string, Float64Array>): void {
    for (const [name, data] of values) this.params.set(name, data.slice());
  }

  private port(name: string): NodeId {
    return findPort(this.training.outputs, name)!.id;
  }

  private run(wanted: readonly NodeId[], x: Float64Array, y: Float64Array | null, n: number): Map<NodeId, Tensor64> {
    const { input, labels } = this.signature;
    return evaluateGraph(
      this.training,
      wanted,
      (name, op) => {
        if (op === 'param') {
          const p = this.signature.params.find((q) => q.name === name)!;
          return tensor64(p.shape, this.params.get(name)!);
        }
        if (name === input.name) return tensor64([n, ...(input.shape.slice(1) as number[])], x);
        if (name === labels.name && y) return tensor64([n, ...(labels.shape.slice(1) as number[])], y);
        throw new Error(`internal: no value for input '${name}'`);
      },
      n,
    );
  }

  private forwardAndLoss(x: Float64Array, y: Float64Array, n: number, extra: readonly NodeId[] = []): { values: Map<NodeId, Tensor64> } & BatchResult<Float64Array> {
    const values = this.run([this.port('prediction'), this.port('loss'), ...extra], x, y, n);
    return { values, loss: values.get(this.port('loss'))!.data[0]!, prediction: values.get(this.port('prediction'))!.data };
  }

  gradientsBatch(x: Float64Array, y: Float64Array, n: number): BatchResult<Float64Array> & { grads: Map<string, Float64Array> } {
    const gradIds = this.signature.params.map((p) => this.port(gradName(p.name)));
    const { values, loss, prediction } = this.forwardAndLoss(x, y, n, gradIds);
    const grads = new Map(this.signature.params.map((p, k) => [p.name, values.get(gradIds[k]!)!.data]));
    return { loss, prediction, grads };
  }

  /** As the compiled train_step_checked: the loss, the gradients in backward order, the new weights, then commit. */
  trainBatch(x: Float64Array, y: Float64Array, n: number): BatchResult<Float64Array> {
    const updates = this.training.updates.map((u) => u.value);
    const { values, loss, prediction } = this.forwardAndLoss(x, y, n, updates);
    // Backward order: the gradient the backward pass computes first comes first.
    const grads = this.signature.params.map((p) => ({ name: p.name, id: this.port(gradName(p.name)) })).sort((a, b) => a.id - b.id);
    const update = new Map(this.training.updates.map((u) => [u.param, u.value]));
    const finite = (id: NodeId): boolean => values.get(id)!.data.every(Number.isFinite);
    const firstBad = (): string | undefined => {
      if (!Number.isFinite(loss)) return 'loss';
      for (const g of grads) if (!finite(g.id)) return gradName(g.name);
      for (const g of grads) if (!finite(update.get(g.name)!)) return `update:${g.name}`;
      return undefined;
    };
    const bad = firstBad();
    if (bad) return { loss, prediction, nonFinite: { tensor: bad, lastFiniteGradNorms: this.lastNorms } };
    for (const u of this.training.updates) this.params.set(u.param, values.get(u.value)!.data.slice());
    this.lastNorms = new Map(this.signature.params.map((p) => [p.name, l2norm(values.get(this.port(gradName(p.name)))!.data)]));
    return { loss, prediction };
  }

  evaluateBatch(x: Float64Array, y: Float64Array, n: number): BatchResult<Float64Array> {
    const { loss, prediction } = this.forwardAndLoss(x, y, n);
    return { loss, prediction };
  }

  predictBatch(x: Float64Array, n: number): Float64Array {
    return this.run([this.port('prediction')], x, null, n).get(this.port('prediction'))!.data;
  }
}

/** The model in float64, evaluated by the reference interpreter. */
export class Interpreter extends ModelRunner<Float64Array> {
  private readonly impl: InterpreterEngine;

  constructor(spec: unknown) {
    const engine = new InterpreterEngine(lowerModel(parseSpec(spec)));
    super(engine);
    this.impl = engine;
  }

  /** The training graph (forward, loss, backward, update) that both the interpreter and the compiler run. */
  get trainingGraph(): Graph {
    return this.impl.training;
  }

  printTrainingGraph(): string {
    return printGraph(this.impl.training);
  }
}

export function interpret(spec: unknown): Interpreter {
  return new Interpreter(spec);
}
