// The liveness-based memory plan: tensors whose lifetimes overlap never share bytes (a node's
// output and its inputs count as overlapping), buffers the host sees are never reused, and
// reuse makes the arena smaller. The gradient tests check that the planned program computes.
import { describe, expect, it } from 'vitest';
import { compileToWasm } from '../compiler/compile.ts';
import { describeTrainer, inspectWasm } from '../compiler/cli/inspect.ts';
import { SMALL_MODELS } from './support/models.ts';

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
    const { graph, plan } = await compileToWasm(spec);
    const forever = Number.POSITIVE_INFINITY;
    const pinned = new Set([...graph.params, ...graph.inputs, ...graph.outputs].map((p) => p.id).concat(graph.updates.map((u) => u.value)));
    const life = new Map<number, [number, number]>();
    for (const [id] of plan.offsets) life.set(id, [graph.nodes[id]!.op === 'param' || graph.nodes[id]!.op === 'input' ? -1 : id, pinned.has(id) ? forever : id]);
    for (const node of graph.nodes) for (const i of node.inputs) if (life.has(i)) life.get(i)![1] = Math.max(life.get(i)![1], node.id);
    const ids = [...plan.offsets.keys()];
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
    expect(plan.unsharedBytes).toBe(64 + total(plan.sizes) + total(plan.scratchSizes));
    expect(plan.unsharedBytes).toBeGreaterThan(plan.end);
  });

  it('reuses buffers: the arena is smaller than one buffer per tensor, and inspect reports both', async () => {
    const { wasm, plan, manifest } = await compileToWasm(deep);
    expect(plan.end).toBeLessThan(0.75 * plan.unsharedBytes);
    expect(manifest.memory.peakBytes).toBe(plan.end - 64);
    const lines = describeTrainer(inspectWasm(wasm, 'deep.wasm'));
    expect(lines.find((l) => l.startsWith('memory plan'))).toMatch(/^memory plan {3}peak .+ live \(.+ with one buffer per tensor\)$/);
    expect(lines.find((l) => l.startsWith('nabla'))).toMatch(/simd baseline \+ relaxed-SIMD build of .+\)$/);
  });
});
