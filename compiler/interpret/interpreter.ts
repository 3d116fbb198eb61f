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
import { layerOutput } from '../model/layer-output.ts';
import { layerDiagnostics, paramDiagnostics, type Diagnostics } from '../../runtime/diagnostics.ts';

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
  private lastDiagnostics: Diagnostics | undefined;

  constructor(
    readonly model: LoweredModel,
    private readonly diagnostics: boolean,
  ) {
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
    const layers = this.diagnostics ? this.model.spec.layers.map((l) => ({ layer: l, id: layerOutput(this.training, l.name) })) : [];
    const { values, loss, prediction } = this.forwardAndLoss(x, y, n, [...updates, ...layers.map((l) => l.id)]);
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
    if (this.diagnostics) {
      const param = (name: string): Float64Array => this.params.get(name)!;
      this.lastDiagnostics = {
        params: Object.fromEntries(
          this.signature.params.map((p) => [p.name, paramDiagnostics(values.get(this.port(gradName(p.name)))!.data, param(p.name), values.get(update.get(p.name)!)!.data)]),
        ),
        layers: Object.fromEntries(layers.map(({ layer, id }) => [layer.name, layerDiagnostics(layer.activation, values.get(id)!.data, n, layer.units)])),
      };
    }
    for (const u of this.training.updates) this.params.set(u.param, values.get(u.value)!.data.slice());
    this.lastNorms = new Map(this.signature.params.map((p) => [p.name, l2norm(values.get(this.port(gradName(p.name)))!.data)]));
    return { loss, prediction };
  }

  readDiagnostics(): Diagnostics | undefined {
    return this.lastDiagnostics;
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

  /** `diagnostics`: gradient-flow telemetry every training step, as a trainer compiled with it. */
  constructor(spec: unknown, options: { readonly diagnostics?: boolean } = {}) {
    const engine = new InterpreterEngine(lowerModel(parseSpec(spec)), options.diagnostics ?? false);
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

export function interpret(spec: unknown, options: { readonly diagnostics?: boolean } = {}): Interpreter {
  return new Interpreter(spec, options);
}
