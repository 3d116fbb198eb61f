// The threads table: median ms per training step of each workload's threaded build on 1, 2, …
// threads beside its single-threaded build, timed in paired rounds (bench/timing.ts), so the
// ratios hold under load from elsewhere. The bare `train_step` export, as in the main table;
// the build is the one loadTrainer picks here (relaxed SIMD where the host validates it).
//
//   npm run bench -- --threads 1,2 --only W1/256,W1/64,W2,W7,iris
//   npm run bench -- --threads 2 --only W1/64 --min-work 16384,65536,131072,524288
//
// --min-work times the threaded build with each least multiply-adds per part (the threshold
// below which a product runs whole; compiler/codegen/threaded.ts, DEFAULT_MIN_PART_WORK).
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { compileToWasm } from '../compiler/compile.ts';
import { readManifest } from '../runtime/manifest.ts';
import type { WorkerPool } from '../runtime/worker_pool.ts';
import { feedWorkload } from './nabla.ts';
import { fedStepInstance, relaxedBuild, threadedBuild, threadedStepInstance, type Feed } from './nabla_builds.ts';
import { formatRatio, pairedRounds } from './timing.ts';
import { w7Spec } from './transformer.ts';
import { feedW7, W7 } from './w7_model.ts';
import { nablaSpec, workloadNamed, type Workload } from './workloads.ts';

/** A named model to time: a table workload, or the iris example (its model on a synthetic batch). */
interface Case {
  readonly name: string;
  readonly spec: unknown;
  /** Writes the batch into an instance's input and label buffers. */
  readonly feed: Feed;
}

function workloadCase(w: Workload): Case {
  return { name: w.name, spec: nablaSpec(w), feed: feedWorkload(w) };
}

function irisCase(): Case {
  const spec = JSON.parse(readFileSync(new URL('../examples/iris/model.json', import.meta.url), 'utf8')) as unknown;
  return {
    name: 'iris',
    spec,
    feed: (m, memory) => {
      const x = new Float32Array(memory, m.buffers.input.offset, m.buffers.input.bytes / 4);
      for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.7);
      // Sparse labels (the model's loss), one class index a row.
      const classes = m.prediction.shape[1] as number;
      const labels = m.outputs[0]!.labels.dtype === 'i32' ? new Int32Array(memory, m.buffers.labels.offset, m.batchSize) : new Float32Array(memory, m.buffers.labels.offset, m.batchSize);
      for (let r = 0; r < m.batchSize; r++) labels[r] = r % classes;
    },
  };
}

/** W7, the transformer of examples/words (bench/transformer.ts), on its token ids and next-token labels. */
function w7Case(): Case {
  return { name: W7.name, spec: w7Spec(), feed: feedW7() };
}

export function threadCase(name: string): Case {
  if (name === 'iris') return irisCase();
  if (name === W7.name) return w7Case();
  const w = workloadNamed(name);
  if (!w) throw new Error(`no workload '${name}' (the table's names, W1/<batch>, W7 or iris)`);
  return workloadCase(w);
}

interface Variant {
  readonly label: string;
  readonly step: () => void;
  readonly pool?: WorkerPool;
}

/** The threaded build on `threads` threads (least work per part `minWork`, 0: the compiled default), fed and initialised. */
async function threadedVariant(module: WebAssembly.Module, c: Case, threads: number, minWork: number): Promise<Variant> {
  const { exports, manifest, pool } = await threadedStepInstance(module, threads, minWork, c.feed);
  const label = `${threads} thread${threads > 1 ? 's' : ''}${minWork ? ` min ${minWork}` : ''}`;
  return { label, step: () => void exports.train_step(manifest.batchSize), ...(pool ? { pool } : {}) };
}

/** Lines of the threads table for `names`, on `counts` threads (and each least work per part in `minWorks`). */
export async function benchThreads(names: readonly string[], counts: readonly number[], minWorks: readonly number[] = [0]): Promise<string[]> {
  const lines = [
    `threads · ${new Date().toISOString().slice(0, 10)} · ${os.cpus().length} cores · Node ${process.version} · load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    `median ms per train_step; ratio = that variant's step time / the single-threaded build's in the same round (median, 25th–75th percentile);`,
    `fastest = the fastest round's ms per step (on a loaded machine, the rounds nothing else interrupted) and their ratio`,
  ];
  const rows: string[][] = [['workload', 'single-threaded ms', 'variant', 'ms', 'ratio', 'fastest: single', 'variant', 'ratio']];
  for (const name of names) {
    const c = threadCase(name);
    const compiled = await compileToWasm(c.spec, { threaded: true });
    const given = await WebAssembly.compile(compiled.wasm);
    const relaxed = await relaxedBuild(given);
    const single = relaxed ?? given;
    const threaded = await threadedBuild(given, relaxed !== undefined);
    const fed = await fedStepInstance(single, c.feed);
    const batch = readManifest(single).batchSize;
    const variants: Variant[] = [{ label: 'single-threaded build', step: () => void fed.train_step(batch) }];
    for (const k of counts) for (const minWork of k > 1 ? minWorks : [0]) variants.push(await threadedVariant(threaded, c, k, minWork));
    // About 30 ms a round.
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) variants[0]!.step();
    const steps = Math.max(1, Math.round(30 / ((performance.now() - t0) / 5)));
    const result = pairedRounds(variants.map((v) => v.step), steps, 31, 4);
    for (const v of variants) v.pool?.stop();
    variants.forEach((v, k) => {
      if (k === 0) return;
      const fastest = result.fastest;
      rows.push([name, result.ms[0]!.toFixed(3), v.label, result.ms[k]!.toFixed(3), formatRatio(result.ratios[k]!), fastest[0]!.toFixed(3), fastest[k]!.toFixed(3), `×${(fastest[k]! / fastest[0]!).toFixed(3)}`]);
    });
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  rows.forEach((r, i) => {
    lines.push(`| ${r.map((cell, c) => (c === 0 || c === 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`);
    if (i === 0) lines.push(`|${widths.map((n, c) => (c === 0 || c === 2 ? '-'.repeat(n + 2) : `${'-'.repeat(n + 1)}:`)).join('|')}|`);
  });
  return lines;
}

