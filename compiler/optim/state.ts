// Optimizer state as graph tensors: each slot is a `state` node (persistent, zeroed by init,
// placed in the arena and listed in the manifest) and each step writes it back through the
// graph's updates, exactly as parameters are written.
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId, Port, Shape } from '../ir/types.ts';

export class OptimizerState {
  readonly ports: Port[] = [];
  readonly updates: { target: string; value: NodeId }[] = [];

  /** `existing`: state the forward graph already holds and updates (the step counter, with dropout). */
  constructor(
    private readonly b: GraphBuilder,
    private readonly existing: readonly Port[] = [],
  ) {}

  /** A new zero-initialised state tensor. */
  slot(name: string, shape: Shape): NodeId {
    const id = this.b.op('state', [], { name, shape, dtype: 'f32' });
    this.ports.push({ name, id });
    return id;
  }

  /**
   * A scalar the step reads and the host may set between steps (see HYPERPARAMETER): a state
   * tensor with no update, set to `value` by init. Made once per name.
   */
  hyperparameter(name: string, value: number): NodeId {
    const held = this.ports.find((p) => p.name === name);
    if (held) return held.id;
    const id = this.b.op('state', [], { name, shape: [], dtype: 'f32', initial: value });
    this.ports.push({ name, id });
    return id;
  }

  /** After the step, state `name` takes `value`. */
  set(name: string, value: NodeId): void {
    this.updates.push({ target: name, value });
  }

  /** A slot updated to f(old): returns [old, new]. */
  carry(name: string, shape: Shape, next: (old: NodeId) => NodeId): [NodeId, NodeId] {
    const held = this.existing.find((p) => p.name === name);
    if (held) return [held.id, next(held.id)];
    const old = this.slot(name, shape);
    const value = next(old);
    this.set(name, value);
    return [old, value];
  }
}

/** What an update rule gets for one parameter. */
export interface UpdateContext {
  readonly name: string;
  readonly weight: NodeId;
  /** Its gradient, clipped and with L2 decay added. */
  readonly grad: NodeId;
  /** The learning rate of this step: the learning-rate hyperparameter, times the schedule's factor. */
  readonly lr: () => NodeId;
  /** Steps already taken (0 on the first step); present for the rules that asked for it. */
  readonly t: NodeId | null;
  readonly state: OptimizerState;
}
