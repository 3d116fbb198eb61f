// `nabla gradcheck <model.json>`: the gradients three ways (compiled float32, interpreted float64,
// centered differences), compared per tensor and overall; exit 1 when a pair says "likely a bug".
import { permutation, Rng } from '../../runtime/prng.ts';
import { InputError } from '../../runtime/errors.ts';
import { rowWidth, type TensorLike } from '../../runtime/tensor.ts';
import { ACCEPTABLE, BUG_THRESHOLD, EXCELLENT, pairName, pairs, type Element, type PairName, type PairResult } from '../gradcheck/compare.ts';
import { gradcheck, type GradcheckReport } from '../gradcheck/gradcheck.ts';
import { interpret } from '../interpret/interpreter.ts';
import { parseCommand, positiveInt, seedValue } from './args.ts';
import { loadCsv } from './csv.ts';
import { CliError, type Io } from './errors.ts';
import { readBytes, readJson } from './files.ts';
import { table } from './format.ts';
import { prepareLabels } from './labels.ts';
import { fitStandardizer, standardize, takeSamples, SPLIT_STREAM } from './preprocess.ts';
import { usage } from './usage.ts';

export interface GradcheckCliOptions {
  readonly spec: string;
  readonly weights?: string;
  readonly data?: string;
  readonly batch?: number;
  readonly all?: boolean;
  readonly seed?: number;
  readonly json?: boolean;
  /** binary_crossentropy with --data: class K (index or name) against the rest. */
  readonly positiveClass?: string;
}

const sci = (v: number): string => (v === 0 ? '0' : v.toExponential(1).replace('.0e', 'e'));
const value = (v: number | null): string => (v === null ? '—' : v.toPrecision(8));
const header: Record<PairName, string> = {
  'interpreted-vs-numerical': 'interpreted vs numerical',
  'compiled-vs-interpreted': 'compiled vs interpreted',
  'compiled-vs-numerical': 'compiled vs numerical',
};

function elementText(e: Element | null): string {
  if (!e) return '(nothing compared)';
  return `${e.tensor}[${e.index.join(', ')}]: compiled ${value(e.compiled)}, interpreted ${value(e.interpreted)}, numerical ${value(e.numerical)}`;
}

const pairCell = (r: PairResult): string => `${sci(r.relativeDifference)} ${r.verdict}`;

/** The human-readable report. */
export function reportLines(report: GradcheckReport, dataNote: string): string[] {
  const lines: string[] = [];
  const { step, overall } = report;
  lines.push(`model      ${report.model}: ${overall.elements.toLocaleString('en-US')} parameters in ${report.tensors.length} tensors`);
  lines.push(`data       ${report.rows} row${report.rows === 1 ? '' : 's'}, ${dataNote}`);
  lines.push(`loss       compiled ${report.loss.compiled.toPrecision(8)}, interpreted ${report.loss.interpreted.toPrecision(8)}`);
  lines.push(
    `numerical  centered differences on the float64 interpreter, h = ${step.formula} = ${step.unit.toExponential(2)} for |w| ≤ 1 (ε = ${step.epsilon.toExponential(2)})`,
  );
  lines.push(
    report.sampled
      ? `           sampled ${overall.checked.toLocaleString('en-US')} of ${overall.elements.toLocaleString('en-US')} elements (seeded; --all checks every one)`
      : `           every element (${overall.checked.toLocaleString('en-US')})`,
  );
  lines.push('');
  const rows: string[][] = [['tensor', 'shape', 'checked', ...pairs.map((p) => header[pairName(p)])]];
  for (const t of report.tensors) {
    rows.push([t.name, `[${t.shape.join(', ')}]`, `${t.checked}/${t.elements}`, ...pairs.map((p) => pairCell(t.pairs[pairName(p)]))]);
  }
  rows.push(['overall', '', `${overall.checked}/${overall.elements}`, ...pairs.map((p) => pairCell(overall[pairName(p)]))]);
  lines.push(...table(rows));
  const zero = report.tensors.filter((t) => t.zero);
  if (zero.length) {
    lines.push(
      '',
      `note: zero gradient (up to rounding) for ${zero.map((t) => t.name).join(', ')}: their differences are relative to the model's gradient norm,`,
      '      so they say only that all three ways find them zero (as for a bias right before batch normalization, which subtracts it again)',
    );
  }
  lines.push('', 'worst elements (largest |a − b| of each pair)');
  for (const p of pairs) lines.push(`  ${header[pairName(p)].padEnd(24)}  ${elementText(overall[pairName(p)].worst)}`);
  const bad = report.tensors.filter((t) => t.verdict === 'likely a bug');
  lines.push('');
  lines.push(
    `scale      ≤ ${sci(EXCELLENT)} excellent, ≤ ${sci(ACCEPTABLE)} acceptable (where float32 lands), < ${sci(BUG_THRESHOLD)} doubtful, ≥ ${sci(BUG_THRESHOLD)} likely a bug`,
  );
  if (report.failed) {
    lines.push(`verdict    likely a bug in ${bad.map((t) => t.name).join(', ')}`);
  } else {
    const exact = overall['interpreted-vs-numerical'];
    const compiled = overall['compiled-vs-interpreted'];
    lines.push(`verdict    ${exact.verdict} (interpreted vs numerical ${sci(exact.relativeDifference)}), compiled vs interpreted ${sci(compiled.relativeDifference)} (${compiled.verdict})`);
  }
  return lines;
}

/** Rows of a CSV as the model takes them: labels prepared, features standardised, a seeded batch. */
function csvBatch(options: GradcheckCliOptions, spec: unknown, seed: number | undefined): { x: TensorLike; y: TensorLike; note: string } {
  const data = loadCsv(options.data!);
  const signature = interpret(spec).signature;
  const inputWidth = rowWidth(signature.input.shape);
  if (data.features !== inputWidth) {
    throw new CliError(`${data.source}: ${data.features} feature columns (plus the label), but model '${signature.model}' takes ${inputWidth} features`);
  }
  const { y } = prepareLabels(signature, data, options.positiveClass);
  // Token ids are categories: scaling them would make them other ids.
  const scaled = signature.input.dtype === 'i32' ? { ...data, y } : standardize({ ...data, y }, fitStandardizer({ ...data, y }));
  const rows = Math.min(options.batch ?? signature.batchSize, data.rows, signature.batchSize);
  const picked = takeSamples(scaled, permutation(data.rows, new Rng(seed ?? signature.seed, SPLIT_STREAM)).subarray(0, rows));
  const width = signature.prediction.shape[1] as number;
  return {
    x: { shape: [rows, picked.features], data: picked.x },
    y: signature.labels.dtype === 'i32' ? picked.y : { shape: [rows, width], data: picked.y },
    note: `a seeded random pick of ${data.source}'s ${data.rows} rows, ${signature.input.dtype === 'i32' ? 'token ids as given' : 'features standardised'}`,
  };
}

/** Runs the check and writes the report; returns it. */
export async function runGradcheck(options: GradcheckCliOptions, io: Io): Promise<GradcheckReport> {
  const spec = readJson(options.spec);
  const safetensors = options.weights?.endsWith('.safetensors') ?? false;
  const checkpoint = options.weights !== undefined && safetensors ? readBytes(options.weights) : undefined;
  const weights = options.weights === undefined || safetensors ? undefined : (readJson(options.weights) as Record<string, TensorLike>);
  const batch = options.data ? csvBatch(options, spec, options.seed) : undefined;
  let report: GradcheckReport;
  try {
    report = await gradcheck(spec, {
      ...(weights ? { weights } : {}),
      ...(checkpoint ? { checkpoint } : {}),
      ...(batch ? { data: batch } : {}),
      ...(options.batch !== undefined ? { batch: options.batch } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      all: options.all ?? false,
    });
  } catch (err) {
    if (err instanceof InputError && options.weights && (safetensors || err.message.startsWith('weights'))) throw new CliError(`${options.weights}: ${err.message}`);
    throw err;
  }
  if (options.json) io.out(JSON.stringify(report, null, 2));
  else io.out(reportLines(report, batch?.note ?? `seeded random data of the model's shapes (seed ${report.seed}; --data to use a CSV)`).join('\n'));
  return report;
}

const flags = {
  weights: { type: 'string' },
  data: { type: 'string' },
  batch: { type: 'string' },
  seed: { type: 'string' },
  all: { type: 'boolean' },
  json: { type: 'boolean' },
  'positive-class': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function gradcheckCommand(args: readonly string[], io: Io): Promise<void> {
  const parsed = parseCommand('gradcheck', args, flags, ['<model.json>']);
  if (parsed.help) return io.out(usage.gradcheck);
  const v = parsed.values;
  const report = await runGradcheck(
    {
      spec: parsed.positionals[0]!,
      weights: v.weights,
      data: v.data,
      batch: positiveInt('--batch', v.batch, 'gradcheck'),
      seed: seedValue('--seed', v.seed, 'gradcheck'),
      all: v.all ?? false,
      json: v.json ?? false,
      positiveClass: v['positive-class'],
    },
    io,
  );
  if (report.failed) {
    const bad = report.tensors.filter((t) => t.verdict === 'likely a bug').map((t) => t.name);
    throw new CliError(`gradcheck: relative difference ≥ ${sci(BUG_THRESHOLD)} (likely a bug) in ${bad.join(', ')}`);
  }
}
