import type { RunDetail } from '../src/server/runTypes';
import { LineChart, type Series } from './LineChart';

/** The iteration at which each completed epoch ended, from the batch log (one entry per epoch group). */
export function epochEndIters(run: Pick<RunDetail, 'batches'>): number[] {
  const ends: number[] = [];
  const b = run.batches;
  for (let i = 0; i < b.length; i++) {
    const next = b[i + 1];
    if (!next || next.epoch !== b[i]!.epoch || next.phase !== b[i]!.phase) ends.push(b[i]!.iter);
  }
  return ends;
}

/** Loss curves (train per batch, valid per epoch) and the lr / momentum schedule. */
export function RunCharts({ run }: { run: RunDetail }) {
  const ends = epochEndIters(run);
  const perBatch = run.batches.length > 0;
  const validX = (k: number) => (perBatch ? (ends[k] ?? NaN) : k + 1);
  const trainSeries: Series = perBatch
    ? { name: 'train (batch)', color: '#2563eb', points: run.batches.map((b) => [b.iter, b.loss] as const) }
    : { name: 'train', color: '#2563eb', dots: true, points: run.metrics.map((m, k) => [k + 1, m.train_loss ?? NaN] as const) };
  const validSeries: Series = {
    name: 'valid (epoch)',
    color: '#ea580c',
    dots: true,
    points: run.metrics.map((m, k) => [validX(k), m.valid_loss ?? NaN] as const),
  };
  const xLabel = perBatch ? 'iteration' : 'epoch';
  const xMax = perBatch ? run.totalIters : run.totalEpochs;
  return (
    <div className="charts">
      <LineChart title="Loss" testId="loss-chart" series={[trainSeries, validSeries]} xLabel={xLabel} yLabel="loss" xMax={xMax} />
      <LineChart
        title="Learning rate (head)"
        testId="lr-chart"
        series={[{ name: 'lr', color: '#16a34a', points: run.batches.map((b) => [b.iter, b.lr ?? NaN] as const) }]}
        xLabel="iteration"
        yLabel="lr"
        xMax={run.totalIters}
      />
      <LineChart
        title="Momentum (beta1)"
        testId="mom-chart"
        series={[{ name: 'mom', color: '#9333ea', points: run.batches.map((b) => [b.iter, b.mom ?? NaN] as const) }]}
        xLabel="iteration"
        yLabel="momentum"
        xMax={run.totalIters}
      />
    </div>
  );
}
