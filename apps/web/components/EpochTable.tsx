import type { EpochMetrics } from '../src/server/runTypes';
import { fix } from '../lib/urls';

export function fmtTime(s: number | null): string {
  if (s === null) return '—';
  const total = Math.round(s);
  const m = Math.floor(total / 60);
  const sec = total % 60;
  return `${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

/** fast.ai's epoch table: epoch, train_loss, valid_loss, accuracy, error_rate, time. */
export function EpochTable({ metrics }: { metrics: readonly EpochMetrics[] }) {
  if (metrics.length === 0) return <p className="muted">No epoch finished yet.</p>;
  const phases = new Set(metrics.map((m) => m.phase).filter(Boolean));
  return (
    <div className="table-wrap">
      <table className="epochs" data-testid="epoch-table">
        <thead>
          <tr>
            {phases.size > 1 ? <th>phase</th> : null}
            <th>epoch</th>
            <th>train_loss</th>
            <th>valid_loss</th>
            <th>accuracy</th>
            <th>error_rate</th>
            <th>time</th>
          </tr>
        </thead>
        <tbody>
          {metrics.map((m, i) => (
            <tr key={i}>
              {phases.size > 1 ? <td>{m.phase}</td> : null}
              <td>{m.epoch}</td>
              <td>{fix(m.train_loss, 6)}</td>
              <td>{fix(m.valid_loss, 6)}</td>
              <td>{fix(m.accuracy, 6)}</td>
              <td>{fix(m.error_rate, 6)}</td>
              <td>{fmtTime(m.seconds)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
