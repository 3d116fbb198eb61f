// W7 in headless Chromium, nabla and jax-js each on the threads a page lets it use. In Node,
// jax-js's wasm device has no worker pool (no global Worker); in a cross-origin-isolated page it
// starts one (navigator.hardwareConcurrency workers) and nabla its threaded build, so both get the
// same cores. One page alternates in rounds (bench/timing.ts pairedRoundsAsync): nabla's
// single-threaded build, its threaded build on 2 threads, jax-js with its pool (`await data()`)
// and jax-js on the page's thread alone (dataSync()). A second page, served without isolation,
// pairs nabla's single-threaded build with jax-js as it runs there (no SharedArrayBuffer: no pool).
//
//   npm run bench:w7:browser [-- --rounds 41 --steps 3 --only nabla,nabla-threads,jax-async,jax-sync --no-plain-page]
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { compileToWasm } from '../compiler/compile.ts';
import { serveStatic } from '../examples/browser/serve.ts';
import { chromiumAvailable, CHROMIUM, withChromium } from '../test/support/chromium.ts';
import { jaxVersion } from './jax.ts';
import { formatRatio, median, roundRatios, type PairedResult } from './timing.ts';
import { w7Spec } from './transformer.ts';
import { W7 } from './w7_model.ts';
import { VARIANT_KEYS, type VariantKey, type W7PageResult } from './w7_page_result.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '41' }, steps: { type: 'string', default: '3' }, only: { type: 'string' }, 'no-plain-page': { type: 'boolean' } } });
const only = values.only?.split(',');
for (const key of only ?? []) if (!(VARIANT_KEYS as readonly string[]).includes(key)) throw new Error(`--only: no variant '${key}' (the variants: ${VARIANT_KEYS.join(', ')})`);
const rounds = Number(values.rounds);
const steps = Number(values.steps);
if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
if (!Number.isSafeInteger(steps) || steps < 1) throw new Error(`--steps must be a positive integer, got ${values.steps}`);
if (!chromiumAvailable()) throw new Error(`bench:w7:browser needs Chromium at ${CHROMIUM} (apt-get install chromium)`);

const load = (): string => os.loadavg().map((l) => l.toFixed(1)).join(' ');
const loadBefore = load();
const dir = mkdtempSync(join(os.tmpdir(), 'nabla-w7-browser-'));
try {
  const compiled = await compileToWasm(w7Spec(), { threaded: true });
  writeFileSync(join(dir, 'w7.wasm'), compiled.wasm);
  // platform 'browser': jax-js and the runtime as a page loads them (no Node module gets in).
  await build({ entryPoints: [join(import.meta.dirname, 'w7_page.ts')], outfile: join(dir, 'page.js'), bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'silent' });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>W7</title><script type="module" src="./page.js"></script>');

  const pages: { result: W7PageResult; loadAfter: string }[] = [];
  await withChromium(async (context) => {
    for (const crossOriginIsolated of values['no-plain-page'] ? [true] : [true, false]) {
      const served = await serveStatic(dir, 0, { crossOriginIsolated });
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (err) => errors.push(err.message));
        await page.goto(`${served.url}?rounds=${rounds}&steps=${steps}${only ? `&only=${only.join(',')}` : ''}`);
        // Minutes on a loaded machine: 4 variants × (rounds + 5) rounds × `steps` steps, tens of ms each.
        const handle = await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, undefined, { timeout: 30 * 60_000, polling: 500 });
        const result = (await handle.jsonValue()) as W7PageResult | { error: string };
        await page.close();
        if ('error' in result) throw new Error(`the W7 page failed: ${result.error}`);
        if (errors.length) throw new Error(`the W7 page threw: ${errors.join('; ')}`);
        if (result.crossOriginIsolated !== crossOriginIsolated) throw new Error(`the page was ${result.crossOriginIsolated ? '' : 'not '}cross-origin isolated, served ${crossOriginIsolated ? 'with' : 'without'} the headers`);
        for (const v of result.variants) {
          if (!Number.isFinite(v.firstLoss) || !Number.isFinite(v.lastLoss)) throw new Error(`${v.label}: non-finite loss (${v.firstLoss} → ${v.lastLoss})`);
        }
        const ran = (key: VariantKey) => result.variants.find((v) => v.key === key);
        // What the labels claim: the threaded build ran with its worker, bit-identical to one thread (the same steps, the same loss); jax-js started its pool.
        const [single, threaded] = [ran('nabla'), ran('nabla-threads')];
        if (threaded && result.workers.nabla !== 1) throw new Error(`nabla's threaded build started ${result.workers.nabla} workers, not 1`);
        if (single && threaded && !Object.is(single.lastLoss, threaded.lastLoss)) throw new Error(`nabla's threaded build ended at loss ${threaded.lastLoss}, its single-threaded build at ${single.lastLoss}: they must be bit-identical`);
        if (crossOriginIsolated && ran('jax-async') && result.workers.jax === 0) throw new Error('jax-js started no worker pool in the cross-origin-isolated page');
        pages.push({ result, loadAfter: load() });
      } finally {
        await served.close();
      }
    }
  });

  const isolated = pages[0]!.result;
  // The user agent says 156.0.0.0 (Chromium reduces it); the binary says its build.
  const chromium = /[\d.]+/.exec(execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[0] ?? isolated.userAgent;
  console.log(`W7 in Chromium ${chromium} (headless) · ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · ${os.cpus().length} cores (navigator.hardwareConcurrency ${isolated.hardwareConcurrency}) · ${os.cpus()[0]?.model.trim() ?? ''}`);
  console.log(`jax-js ${jaxVersion()} on its wasm device; nabla's ${isolated.simd}-SIMD builds (${(compiled.wasm.length / 1024).toFixed(1)} KiB with its threaded builds); batch ${W7.batch}, SGD ${W7.learningRate}, the same seeded ids and labels`);
  console.log(`${steps} steps of each a round, ${rounds} rounds (after 5 dropped), the order rotating; ms = median ms per step; ratio = a variant's ms / another's in the same round: median (25th–75th percentile)`);
  console.log(`workers started: nabla ${isolated.workers.nabla}, jax-js ${isolated.workers.jax} (its pool: one a core, navigator.hardwareConcurrency); messages to jax-js's workers a step: ${isolated.jaxMessagesPerStep.toFixed(0)}`);
  for (const [k, { result, loadAfter }] of pages.entries()) {
    const timed: PairedResult = { rounds: result.rounds, ms: result.rounds.map(median), fastest: result.rounds.map((t) => Math.min(...t)), ratios: [] };
    console.log('');
    console.log(`${result.crossOriginIsolated ? 'cross-origin-isolated page' : 'page without isolation (no SharedArrayBuffer: no threads, no pool)'} · load average ${k === 0 ? loadBefore : pages[k - 1]!.loadAfter} → ${loadAfter}`);
    // One letter a variant across both pages: jax-js without isolation (no pool) is (e), not (c).
    const letter = (key: VariantKey): string => (key === 'jax-async' && !result.crossOriginIsolated ? '(e)' : `(${'abcd'[VARIANT_KEYS.indexOf(key)]})`);
    const rows = [['', 'variant', 'ms', 'fastest ms', 'loss first → last', `ms / ${letter(result.variants[0]!.key)}`]];
    result.variants.forEach((v, i) => {
      rows.push([letter(v.key), v.label, timed.ms[i]!.toFixed(2), timed.fastest[i]!.toFixed(2), `${v.firstLoss.toFixed(4)} → ${v.lastLoss.toFixed(4)}`, i === 0 ? '' : formatRatio(roundRatios(timed, i, 0))]);
    });
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) console.log(r.map((cell, c) => (c <= 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
    const at = (key: VariantKey): number => result.variants.findIndex((v) => v.key === key);
    const pair = (of: VariantKey, to: VariantKey, what: string): void => {
      if (at(of) >= 0 && at(to) >= 0 && at(to) !== 0) console.log(`${what} ${letter(of)}/${letter(to)}: ${formatRatio(roundRatios(timed, at(of), at(to)))}`);
    };
    pair('jax-async', 'nabla-threads', 'jax-js with its pool / nabla on 2 threads');
    pair('jax-sync', 'nabla-threads', "jax-js on the page's thread / nabla on 2 threads");
    pair('jax-async', 'jax-sync', "jax-js with its pool / jax-js on the page's thread");
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
