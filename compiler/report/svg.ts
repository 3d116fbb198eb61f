// A small hand-rolled SVG line chart: linear or log y axis, a legend, and series that may be
// dashed or carry a CSS class (the report toggles the shifted training curve with one). No
// charting library: it renders the same offline in any browser, and as a file on its own.

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
  /** Extra CSS class on the series' line and legend entry. */
  readonly className?: string;
  /** Palette index (default: the series' position), to pair a solid and a dashed line. */
  readonly colour?: number;
  /** Legend row (default: the series' position); two alternatives shown one at a time share one. */
  readonly legendRow?: number;
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Log-10 y axis; non-positive values are left out. */
  readonly logY?: boolean;
  readonly width?: number;
  readonly height?: number;
  /** Room for the legend at the right. Default 150 px. */
  readonly legendWidth?: number;
}

/** Colour-blind-safe (Okabe–Ito). */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round tick values across [lo, hi]: 1, 2, 5 × 10^k steps. */
function linearTicks(lo: number, hi: number): number[] {
  const span = hi - lo || 1;
  const raw = span / 5;
  const base = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * base).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

const tickText = (v: number, log: boolean): string => (log ? `1e${Math.round(v)}` : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(0) : String(v));

export function lineChart(options: ChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const log = options.logY ?? false;
  const margin = { left: 64, right: 16, top: 32, bottom: 44 };
  const legendWidth = options.legendWidth ?? 150;
  const plotW = width - margin.left - margin.right - legendWidth;
  const plotH = height - margin.top - margin.bottom;
  const ty = (y: number): number => (log ? Math.log10(y) : y);
  const series = options.series.map((s) => ({ ...s, points: s.points.filter(([, y]) => Number.isFinite(y) && (!log || y > 0)) }));
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => ty(y)));
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  if (log) [y0, y1] = [Math.floor(y0), Math.ceil(y1)];
  else [y0, y1] = [Math.min(0, y0), y1 + (y1 - y0) * 0.05];
  const px = (x: number): number => margin.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number): number => margin.top + plotH - ((y - y0) / (y1 - y0)) * plotH;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${margin.left}" y="20" font-size="14" font-weight="bold">${escape(options.title)}</text>`);
  const yTicks = log ? Array.from({ length: y1 - y0 + 1 }, (_, i) => y0 + i).filter((_, i, all) => all.length <= 12 || i % Math.ceil(all.length / 12) === 0) : linearTicks(y0, y1);
  for (const t of yTicks) {
    out.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${margin.left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${tickText(t, log)}</text>`);
  }
  for (const t of linearTicks(x0, x1)) {
    out.push(`<line x1="${px(t).toFixed(1)}" x2="${px(t).toFixed(1)}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 4}" stroke="#333"/>`);
    out.push(`<text x="${px(t).toFixed(1)}" y="${margin.top + plotH + 17}" text-anchor="middle">${tickText(t, false)}</text>`);
  }
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${margin.left + plotW / 2}" y="${height - 8}" text-anchor="middle">${escape(options.xLabel)}</text>`);
  out.push(`<text transform="translate(14 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(options.yLabel)}${log ? ' (log scale)' : ''}</text>`);
  series.forEach((s, k) => {
    const colour = COLOURS[(s.colour ?? k) % COLOURS.length]!;
    const cls = s.className ? ` class="${s.className}"` : '';
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const path = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(ty(y)).toFixed(1)}`).join(' ');
    if (s.points.length > 1) out.push(`<polyline${cls} points="${path}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`);
    else if (s.points.length === 1) out.push(`<circle${cls} cx="${px(s.points[0]![0]).toFixed(1)}" cy="${py(ty(s.points[0]![1])).toFixed(1)}" r="3" fill="${colour}"/>`);
    const ly = margin.top + 8 + (s.legendRow ?? k) * 18;
    const lx = margin.left + plotW + 12;
    out.push(`<g${cls}><line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"${dash}/><text x="${lx + 28}" y="${ly + 4}">${escape(s.name)}</text></g>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
