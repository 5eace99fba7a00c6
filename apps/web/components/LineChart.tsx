/**
 * A small dependency-free SVG line chart that renders on the server (no hooks, no DOM): enough for loss curves
 * and learning-rate / momentum schedules. Points with non-finite values are skipped.
 */
export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  color: string;
  /** Draw dots at the points (for sparse series like the per-epoch valid loss). */
  dots?: boolean;
}

export interface LineChartProps {
  title: string;
  series: readonly Series[];
  xLabel: string;
  yLabel?: string;
  /** Fix the x range (e.g. to the planned number of iterations while a run is live). */
  xMax?: number | null;
  /** Accessible test id. */
  testId?: string;
  width?: number;
  height?: number;
}

const PAD = { l: 52, r: 12, t: 26, b: 34 };

/** Points drawn per series at most: a long run's 50 000 batches become this many (the chart is ~400 px wide). */
export const MAX_DRAWN_POINTS = 1200;

/**
 * Thins a series (sorted by x) to about `max` points, keeping each bucket's lowest and highest point in x order,
 * so spikes and the envelope survive; the first and last points are always kept.
 */
export function decimate<P extends readonly [number, number]>(points: readonly P[], max = MAX_DRAWN_POINTS): readonly P[] {
  if (points.length <= max) return points;
  const buckets = Math.max(1, Math.floor((max - 2) / 2));
  const inner = points.length - 2;
  const out: P[] = [points[0]!];
  for (let b = 0; b < buckets; b++) {
    const from = 1 + Math.floor((b * inner) / buckets);
    const to = 1 + Math.floor(((b + 1) * inner) / buckets);
    if (to <= from) continue;
    let lo = from;
    let hi = from;
    for (let i = from + 1; i < to; i++) {
      if (points[i]![1] < points[lo]![1]) lo = i;
      if (points[i]![1] > points[hi]![1]) hi = i;
    }
    if (lo === hi) out.push(points[lo]!);
    else out.push(points[Math.min(lo, hi)]!, points[Math.max(lo, hi)]!);
  }
  out.push(points[points.length - 1]!);
  return out;
}

/** Readable tick label: 3 significant digits, exponent form for tiny values like learning rates. */
export function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(1);
  return Number(v.toPrecision(3)).toString();
}

function ticks(lo: number, hi: number, n: number): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function LineChart({ title, series, xLabel, yLabel, xMax, testId, width = 440, height = 230 }: LineChartProps) {
  const pts = series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const w = width - PAD.l - PAD.r;
  const h = height - PAD.t - PAD.b;
  if (pts.length === 0) {
    return (
      <figure className="chart" data-testid={testId}>
        <figcaption>{title}</figcaption>
        <p className="muted">No data yet.</p>
      </figure>
    );
  }
  // Loops, not Math.min(...spread): a long run's points would overflow the call stack.
  let x0 = Infinity;
  let x1 = xMax ?? -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const [x, y] of pts) {
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) {
    const d = Math.abs(y0) * 0.1 || 1;
    y0 -= d;
    y1 += d;
  } else {
    const d = (y1 - y0) * 0.05;
    y0 = y0 >= 0 && y0 - d < 0 ? 0 : y0 - d;
    y1 += d;
  }
  if (x0 > 0 && x0 < (x1 - x0) * 0.2) x0 = 0;
  const sx = (x: number) => PAD.l + ((x - x0) / (x1 - x0)) * w;
  const sy = (y: number) => PAD.t + h - ((y - y0) / (y1 - y0)) * h;
  const xt = ticks(x0, x1, 5);
  const yt = ticks(y0, y1, 4);
  return (
    <figure className="chart" data-testid={testId}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} preserveAspectRatio="xMidYMid meet">
        <text x={PAD.l} y={16} className="chart-title">
          {title}
        </text>
        {yt.map((v) => (
          <g key={`y${v}`}>
            <line x1={PAD.l} x2={PAD.l + w} y1={sy(v)} y2={sy(v)} className="grid" />
            <text x={PAD.l - 6} y={sy(v) + 4} textAnchor="end" className="tick">
              {fmtTick(v)}
            </text>
          </g>
        ))}
        {xt.map((v) => (
          <text key={`x${v}`} x={sx(v)} y={PAD.t + h + 16} textAnchor="middle" className="tick">
            {fmtTick(v)}
          </text>
        ))}
        <line x1={PAD.l} x2={PAD.l} y1={PAD.t} y2={PAD.t + h} className="axis" />
        <line x1={PAD.l} x2={PAD.l + w} y1={PAD.t + h} y2={PAD.t + h} className="axis" />
        <text x={PAD.l + w / 2} y={height - 4} textAnchor="middle" className="axis-label">
          {xLabel}
        </text>
        {yLabel ? (
          <text x={12} y={PAD.t + h / 2} textAnchor="middle" className="axis-label" transform={`rotate(-90 12 ${PAD.t + h / 2})`}>
            {yLabel}
          </text>
        ) : null}
        {series.map((s) => {
          const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
          const d = decimate(p)
            .map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
            .join('');
          return (
            <g key={s.name} data-series={s.name} data-points={p.length}>
              {p.length > 1 ? <path d={d} fill="none" stroke={s.color} strokeWidth={1.6} /> : null}
              {s.dots || p.length === 1
                ? p.map(([x, y], i) => <circle key={i} cx={sx(x)} cy={sy(y)} r={3.2} fill={s.color} />)
                : null}
            </g>
          );
        })}
        {series.length > 1
          ? series.map((s, i) => (
              <g key={`legend-${s.name}`} transform={`translate(${PAD.l + w - 110}, ${PAD.t + 8 + i * 15})`}>
                <rect width={10} height={3} y={-4} fill={s.color} />
                <text x={14} y={0} className="tick">
                  {s.name}
                </text>
              </g>
            ))
          : null}
      </svg>
    </figure>
  );
}
