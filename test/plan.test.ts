// The liveness-based memory plan: tensors whose lifetimes overlap never share bytes (a node's
// output and its inputs count as overlapping; an update written in place shares its target's
// bytes, after every other reader of the old value), buffers the host sees are never reused,
// reuse makes the arena smaller, and the report counts every buffer. The gradient tests check that the planned program computes.
import { describe, expect, it } from 'vitest';
import { compileToWasm } from '../compiler/compile.ts';
import { describeTrainer, inspectWasm } from '../compiler/cli/inspect.ts';
import { SMALL_MODELS } from './support/models.ts';
import { kernelInputs } from '../compiler/passes/fuse.ts';

const deep = {
  input: { shape: [30] },
  layers: [
    { type: 'dense', units: 40, activation: 'relu' },
    { type: 'dense', units: 40, activation: 'tanh' },
    { type: 'dense', units: 40, activation: 'relu' },
    { type: 'dense', units: 5, activation: 'softmax' },
  ],
  loss: { type: 'sparse_categorical_crossentropy' },
  batchSize: 128,
};

describe('memory plan', () => {
  it.each([...SMALL_MODELS.map((c) => [c.name, c.spec] as const), ['deep relu/tanh', deep] as const])('overlapping lifetimes never share bytes: %s', async (_name, spec) => {
    const { graph, plan, program } = await compileToWasm(spec);
    const forever = Number.POSITIVE_INFINITY;
    // An update written in place shares its target's bytes by design: checked by order instead.
    // Every other reader of the old value runs before it; only later in-place updates read it.
    const position = new Map(program.kernels.map((k, t) => [k.out, t]));
    for (const [value, target] of plan.inPlace) {
      expect(plan.offsets.get(value)).toBe(plan.offsets.get(target));
      for (const k of program.kernels) {
        const reads = kernelInputs(graph, k);
        if (reads.includes(target) && k.out !== value) expect(position.get(k.out)!, `%${k.out} reads %${target} after %${value} overwrote it`).toBeLessThan(position.get(value)!);
        if (reads.includes(value)) expect(plan.inPlace.has(k.out) && position.get(k.out)! > position.get(value)!, `%${k.out} reads %${value}`).toBe(true);
      }
    }
    const pinned = new Set([...graph.params, ...graph.inputs, ...graph.outputs].map((p) => p.id).concat(graph.updates.map((u) => u.value)));
    const life = new Map<number, [number, number]>();
    for (const [id] of plan.offsets) life.set(id, [graph.nodes[id]!.op === 'param' || graph.nodes[id]!.op === 'input' ? -1 : id, pinned.has(id) ? forever : id]);
    for (const node of graph.nodes) for (const i of node.inputs) if (life.has(i)) life.get(i)![1] = Math.max(life.get(i)![1], node.id);
    // A reshape that is no kernel is read in its operand's buffer: that buffer lives until its last reader.
    for (const [alias, root] of plan.aliases) {
      expect(plan.offsets.get(alias)).toBe(plan.offsets.get(root));
      life.get(root)![1] = Math.max(life.get(root)![1], life.get(alias)![1]);
    }
    const ids = [...plan.offsets.keys()].filter((id) => !plan.inPlace.has(id) && !plan.aliases.has(id));
    for (const a of ids) {
      for (const b of ids) {
        if (a >= b) continue;
        const [sa, ea] = life.get(a)!;
        const [sb, eb] = life.get(b)!;
        if (ea < sb || eb < sa) continue;
        const [oa, ob] = [plan.offsets.get(a)!, plan.offsets.get(b)!];
        const disjoint = oa + plan.sizes.get(a)! <= ob || ob + plan.sizes.get(b)! <= oa;
        expect(disjoint, `%${a} and %${b} are live together but share bytes`).toBe(true);
      }
    }
  });

  it('counts every buffer in the figure without reuse: parameters, state, inputs, kernel outputs and scratch', async () => {
    const { graph, plan } = await compileToWasm({ ...deep, optimizer: { type: 'adam', learningRate: 0.01 } });
    const aligned = (bytes: number): number => Math.ceil(Math.max(bytes, 1) / 16) * 16;
    const total = (sizes: ReadonlyMap<number, number>): number => [...sizes.values()].reduce((sum, bytes) => sum + aligned(bytes), 0);
    for (const port of [...graph.params, ...graph.inputs, ...(graph.state ?? [])]) expect(plan.sizes.has(port.id), port.name).toBe(true);
    expect(plan.scratchSizes.size).toBeGreaterThan(0);
    const own = new Map([...plan.sizes].filter(([id]) => !plan.inPlace.has(id) && !plan.aliases.has(id)));
    expect(plan.unsharedBytes).toBe(64 + total(own) + total(plan.scratchSizes));
    expect(plan.unsharedBytes).toBeGreaterThan(plan.end);
  });

  it('reports its minimum from every persistent buffer, and the arena holds no second copy of the parameters', async () => {
    const { graph, plan, manifest } = await compileToWasm({ ...deep, optimizer: { type: 'adam', learningRate: 0.01 } });
    const aligned = (bytes: number): number => Math.ceil(Math.max(bytes, 1) / 16) * 16;
    const total = (ports: readonly { id: number }[]): number => ports.reduce((sum, p) => sum + aligned(plan.sizes.get(p.id)!), 0);
    expect(plan.minimum.params).toBe(total(graph.params));
    expect(plan.minimum.state).toBe(total(graph.state ?? []));
    expect(plan.minimum.grads).toBeLessThanOrEqual(total(graph.outputs.filter((p) => p.name.startsWith('grad:'))));
    expect(plan.minimum.bytes).toBe(plan.minimum.params + plan.minimum.state + plan.minimum.grads + plan.minimum.peakActivations);
    expect(manifest.memory.minimumBytes).toBe(plan.minimum.bytes);
    // The minimum is a floor: the arena holds all of it at once, at the peak.
    expect(plan.end - 64).toBeGreaterThanOrEqual(plan.minimum.bytes);
    // Every update but the u32 step counter is written over its target: weights, both moments.
    const separate = graph.updates.filter((u) => !plan.inPlace.has(u.value)).map((u) => u.target);
    expect(separate).toEqual(['optimizer:step']);
  });

  it('plans a 784-256-128-10 MLP at batch 64 within 1.15× its minimum', async () => {
    const mlp = {
      input: { shape: [784] },
      layers: [
        { type: 'dense', units: 256, activation: 'relu' },
        { type: 'dense', units: 128, activation: 'relu' },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
      loss: { type: 'sparse_categorical_crossentropy' },
      batchSize: 64,
    };
    const { plan } = await compileToWasm(mlp, { simd: 'baseline' });
    expect((plan.end - 64) / plan.minimum.bytes).toBeLessThanOrEqual(1.15);
  });

  it('reuses buffers: the arena is smaller than one buffer per tensor, and inspect reports both', async () => {
    const { wasm, plan, manifest } = await compileToWasm(deep);
    expect(plan.end).toBeLessThan(0.75 * plan.unsharedBytes);
    expect(manifest.memory.peakBytes).toBe(plan.end - 64);
    const lines = describeTrainer(inspectWasm(wasm, 'deep.wasm'));
    expect(lines.find((l) => l.startsWith('memory plan'))).toMatch(/^memory plan {3}peak .+ live \(.+ with one buffer per tensor\)$/);
    expect(lines.find((l) => l.startsWith('memory floor'))).toMatch(/^memory floor {2}.+: parameters \+ gradients \+ optimizer state \+ peak live activations$/);
    expect(lines.find((l) => l.startsWith('nabla'))).toMatch(/simd baseline \+ relaxed-SIMD build of .+\)$/);
  });
});
