import type { TestPrediction } from '../src/server/runTypes';
import { Thumb } from './Thumb';

/** The test set's predictions (from `test_predictions.csv`), with thumbnails when the run wrote them. */
export function TestPredictions({ runId, preds }: { runId: string; preds: readonly TestPrediction[] }) {
  if (preds.length === 0) return <p className="muted">No test predictions (the run had no test folder).</p>;
  return (
    <div className="grid" data-testid="test-predictions">
      {preds.map((p, i) => (
        <figure key={i} className="tile" data-testid="test-prediction">
          <Thumb runId={runId} thumb={p.thumb} alt={p.file} />
          <figcaption>
            <strong>{p.label}</strong>
            <span>p {Number.isFinite(p.probability) ? p.probability.toFixed(3) : '—'}</span>
            <span className="file" title={p.file}>
              {p.file.split('/').pop()}
            </span>
          </figcaption>
        </figure>
      ))}
    </div>
  );
}
