import type { RunDetail } from '../src/server/runTypes';
import { LineChart, type Series } from './LineChart';

/** Colours of the compared runs, in order (run #1, #2, ...). */
export const COMPARE_COLORS = [
  '#2563eb',
  '#ea580c',
  '#16a34a',
  '#9333ea',
  '#dc2626',
  '#0891b2',
  '#ca8a04',
  '#db2777',
  '#4b5563',
  '#65a30d',
];

/** The label of the compared run at `i` in charts and tables (`#1`, `#2`, ...). */
export const compareLabel = (i: number): string => `#${i + 1}`;

/** Per-epoch curves of several runs overlaid: validation loss and accuracy against the epoch (both phases). */
export function CompareCharts({ runs }: { runs: readonly RunDetail[] }) {
  const series = (pick: (m: RunDetail['metrics'][number]) => number | null | undefined): Series[] =>
    runs.map((r, i) => ({
      name: compareLabel(i),
      color: COMPARE_COLORS[i % COMPARE_COLORS.length]!,
      dots: true,
      points: r.metrics.map((m, k) => [k + 1, pick(m) ?? NaN] as const),
    }));
  const maxEpochs = Math.max(1, ...runs.map((r) => r.totalEpochs ?? r.metrics.length));
  return (
    <div className="charts">
      <LineChart
        title="Validation loss"
        testId="compare-valid-loss"
        series={series((m) => m.valid_loss)}
        xLabel="epoch"
        yLabel="loss"
        xMax={maxEpochs}
      />
      <LineChart
        title="Accuracy"
        testId="compare-accuracy"
        series={series((m) => m.accuracy)}
        xLabel="epoch"
        yLabel="accuracy"
        xMax={maxEpochs}
      />
    </div>
  );
}

/** Config keys that never tell runs apart in a useful way. */
const IGNORED_KEYS = new Set(['createdAt']);

/** The config keys whose values differ between the runs (sorted), with each run's value as text. */
export function configDifferences(runs: readonly RunDetail[]): Array<{ key: string; values: string[] }> {
  const keys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.config)) if (!IGNORED_KEYS.has(k)) keys.add(k);
  const text = (v: unknown): string => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
  const out: Array<{ key: string; values: string[] }> = [];
  for (const key of [...keys].sort()) {
    const values = runs.map((r) => text(r.config[key]));
    if (new Set(values).size > 1) out.push({ key, values });
  }
  return out;
}

/** The best validation loss of a run (null before its first epoch). */
export function bestValidLoss(r: RunDetail): number | null {
  const v = r.metrics.map((m) => m.valid_loss).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length ? Math.min(...v) : null;
}
