// The float64 reference interpreter behind the same API as the compiled trainer: it runs the
// very training graph that is compiled, so the two can be compared value for value.
import type { Batch, BatchEngine, BatchResult } from '../../runtime/engine.ts';
import { takeRows, type Rows } from '../../runtime/data.ts';
import { ModelRunner } from '../../runtime/runner.ts';
import type { Signature, TensorSpec } from '../../runtime/manifest.ts';
import type { Feed } from '../../runtime/tensor.ts';
import { gradientPorts, LOSS, TRAIN_LOSS, gradName, updateName } from '../../runtime/ports.ts';
import { trainingGraphOf } from '../train/graph.ts';
import { drawOf, initialValues, paramStream } from '../init/initializers.ts';
import { printGraph } from '../ir/print.ts';
import { tensor64, type Tensor64 } from '../ir/tensor.ts';
import { findPort, type Graph, type NodeId } from '../ir/types.ts';
import { lowerModel, type LoweredModel } from '../model/lower.ts';
import { parseSpec } from '../model/spec.ts';
import { signatureOf } from '../model/signature.ts';
import { evaluateGraph } from './evaluate.ts';
import { stateInitial } from '../ops/sources.ts';
import { hyperparametersOf } from '../optim/hyperparameters.ts';
import { layerOutputs, type LayerOutput } from '../model/layer-output.ts';
import { layerDiagnostics, paramDiagnostics, type Diagnostics } from '../../runtime/diagnostics.ts';

function l2norm(data: Float64Array): number {
  let sum = 0;
  for (const v of data) sum += v * v;
  return Math.sqrt(sum);
}

/** Rows [start, start+n) of each tensor, in `order` where given: the interpreter's rows are float64 (its precision); all of them are taken as they are. */
function float64Rows(rows: readonly Rows[], start: number, n: number, order?: Uint32Array): Float64Array[] {
  return rows.map((r) => (!order && start === 0 && n === r.rows ? r.data : takeRows(r, start, n, order)) as Float64Array);
}

class InterpreterEngine implements BatchEngine<Float64Array> {
  readonly precision = 'float64';
  readonly signature: Signature;
  readonly training: Graph;
  private readonly params = new Map<string, Float64Array>();
  /** Optimizer state and hyperparameters by name, set by init as the trainer's init() does. */
  private readonly state = new Map<string, Tensor64>();
  /** Gradient norms of the last step whose values were all finite, for the non-finite guard. */
  private lastNorms: ReadonlyMap<string, number> | null = null;
  private lastDiagnostics: Diagnostics | undefined;
  /** Layers whose activations the telemetry reads; empty without diagnostics. */
  private readonly layers: readonly LayerOutput[];

  constructor(
    readonly model: LoweredModel,
    diagnostics: boolean,
  ) {
    this.training = trainingGraphOf(model);
    this.signature = { ...signatureOf(model), hyperparameters: hyperparametersOf(this.training) };
    this.layers = diagnostics ? layerOutputs(this.training, model.spec) : [];
    this.init(model.spec.seed);
  }

  init(seed: number): void {
    this.model.params.forEach((p, k) => {
      const size = p.shape.reduce((a, b) => a * b, 1);
      this.params.set(p.name, initialValues(drawOf(p), size, seed, paramStream(k)));
    });
    for (const s of this.training.state ?? []) {
      const node = this.training.nodes[s.id]!;
      const value = tensor64(node.shape as number[]);
      value.data.fill(stateInitial(node));
      this.state.set(s.name, value);
    }
    this.forgetSteps();
  }

  /** The guard's norms and the telemetry describe steps of weights that were just replaced. */
  forgetSteps(): void {
    this.lastNorms = null;
    this.lastDiagnostics = undefined;
  }

  readParam(name: string): Float64Array {
    return this.params.get(name)!.slice();
  }

  writeParams(values: ReadonlyMap<string, Float64Array>): void {
    for (const [name, data] of values) this.params.set(name, data.slice());
    this.forgetSteps();
  }

  readState(name: string): number {
    return this.state.get(name)!.data[0]!;
  }

  writeState(name: string, value: number): void {
    this.state.get(name)!.data[0] = value;
  }

  private port(name: string): NodeId {
    return findPort(this.training.outputs, name)!.id;
  }

  private run(wanted: readonly NodeId[], x: readonly Float64Array[], y: readonly Float64Array[] | null, n: number): Map<NodeId, Tensor64> {
    const { inputs, outputs } = this.signature;
    const fed = new Map<string, Tensor64>();
    const feed = (spec: TensorSpec, data: Float64Array) => fed.set(spec.name, tensor64([n, ...(spec.shape.slice(1) as number[])], data));
    inputs.forEach((spec, k) => feed(spec, x[k]!));
    if (y) outputs.forEach((o, k) => feed(o.labels, y[k]!));
    return evaluateGraph(
      this.training,
      wanted,
      (name, op) => {
        if (op === 'state') return this.state.get(name)!;
        if (op === 'param') {
          const p = this.signature.params.find((q) => q.name === name)!;
          return tensor64(p.shape, this.params.get(name)!);
        }
        const value = fed.get(name);
        if (!value) throw new Error(`internal: no value for input '${name}'`);
        return value;
      },
      n,
    );
  }

  private predictionIds(): NodeId[] {
    return this.signature.outputs.map((o) => this.port(o.prediction.name));
  }

  /** `training`: the loss of the training pass (batch statistics) where the model has one. */
  private forwardAndLoss(
    x: readonly Float64Array[],
    y: readonly Float64Array[],
    n: number,
    extra: readonly NodeId[] = [],
    training = false,
  ): { values: Map<NodeId, Tensor64> } & BatchResult<Float64Array> {
    const lossId = training ? (findPort(this.training.outputs, TRAIN_LOSS)?.id ?? this.port(LOSS)) : this.port(LOSS);
    const each = this.model.outputs.flatMap((o) => (o.lossPort ? [this.port(o.lossPort)] : []));
    const values = this.run([...this.predictionIds(), lossId, ...each, ...extra], x, y, n);
    return {
      values,
      loss: values.get(lossId)!.data[0]!,
      predictions: this.predictionIds().map((id) => values.get(id)!.data),
      ...(each.length ? { losses: each.map((id) => values.get(id)!.data[0]!) } : {}),
    };
  }

  gradientsBatch(data: Batch, start: number, n: number): BatchResult<Float64Array> & { grads: Map<string, Float64Array> } {
    const x = float64Rows(data.x, start, n);
    const y = float64Rows(data.y, start, n);
    const ports = gradientPorts(this.training);
    const { values, loss, predictions } = this.forwardAndLoss(x, y, n, ports.map((p) => p.id), true);
    const grads = new Map(ports.map((p) => [p.param, values.get(p.id)!.data]));
    return { loss, predictions, grads };
  }

  /** The training pass's loss alone (batch statistics, this step's dropout mask): no backward pass. */
  trainingLossBatch(data: Batch): number {
    return this.forwardAndLoss(float64Rows(data.x, 0, data.rows), float64Rows(data.y, 0, data.rows), data.rows, [], true).loss;
  }

  /** As the compiled train_step_checked: the loss, the gradients in backward order, the new values, then commit. */
  trainBatch(data: Batch, start: number, n: number, order?: Uint32Array): BatchResult<Float64Array> {
    const x = float64Rows(data.x, start, n, order);
    const y = float64Rows(data.y, start, n, order);
    const updates = this.training.updates.map((u) => u.value);
    const { values, loss, predictions } = this.forwardAndLoss(x, y, n, [...updates, ...this.layers.map((l) => l.id)], true);
    const ports = gradientPorts(this.training);
    const grads = ports.map((p) => ({ name: p.param, id: p.id }));
    // Backward order: the gradient the backward pass computes first (the last layer's) comes first.
    const backward = [...grads].sort((a, b) => a.id - b.id);
    const rank = new Map(backward.map((g, k) => [g.name, k]));
    const checked = [...this.training.updates].sort((a, b) => (rank.get(a.target) ?? Infinity) - (rank.get(b.target) ?? Infinity));
    const finite = (id: NodeId): boolean => values.get(id)!.data.every(Number.isFinite);
    const firstBad = (): string | undefined => {
      if (!Number.isFinite(loss)) return LOSS;
      for (const g of backward) if (!finite(g.id)) return gradName(g.name);
      for (const u of checked) if (!finite(u.value)) return updateName(u.target);
      return undefined;
    };
    const bad = firstBad();
    if (bad) return { loss, predictions, nonFinite: { tensor: bad, lastFiniteGradNorms: this.lastNorms } };
    if (this.layers.length) {
      const update = new Map(this.training.updates.map((u) => [u.target, u.value]));
      this.lastDiagnostics = {
        params: Object.fromEntries(grads.map((g) => [g.name, paramDiagnostics(values.get(g.id)!.data, this.params.get(g.name)!, values.get(update.get(g.name)!)!.data)])),
        layers: Object.fromEntries(this.layers.map((l) => [l.name, layerDiagnostics(l.activation, values.get(l.id)!.data, n, l.units)])),
      };
    }
    for (const u of this.training.updates) {
      const value = values.get(u.value)!;
      if (this.state.has(u.target)) this.state.set(u.target, tensor64(value.shape, value.data.slice()));
      else this.params.set(u.target, value.data.slice());
    }
    this.lastNorms = new Map(grads.map((g) => [g.name, l2norm(values.get(g.id)!.data)]));
    return { loss, predictions };
  }

  readDiagnostics(): Diagnostics | undefined {
    return this.lastDiagnostics;
  }

  evaluateBatch(data: Batch, start: number, n: number, order?: Uint32Array): BatchResult<Float64Array> {
    const { values: _values, ...result } = this.forwardAndLoss(float64Rows(data.x, start, n, order), float64Rows(data.y, start, n, order), n);
    return result;
  }

  predictBatch(x: readonly Rows[], start: number, n: number): Float64Array[] {
    const ids = this.predictionIds();
    const values = this.run(ids, float64Rows(x, start, n), null, n);
    return ids.map((id) => values.get(id)!.data);
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

  /**
   * The loss gradients() differentiates — the training pass's (batch statistics, this step's
   * dropout mask) where the model has one — without its backward pass: what numerical
   * gradients evaluate twice per element.
   */
  trainingLoss(x: Feed, y: Feed): number {
    const batch = this.batch(x, y);
    return this.impl.trainingLossBatch(batch);
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
