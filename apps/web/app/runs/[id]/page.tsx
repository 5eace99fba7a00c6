import Link from 'next/link';
import { notFound } from 'next/navigation';
import { connection } from 'next/server';
import { ConfusionMatrix } from '../../../components/ConfusionMatrix';
import { EpochTable } from '../../../components/EpochTable';
import { LiveUpdates } from '../../../components/LiveUpdates';
import { RunCharts } from '../../../components/RunCharts';
import { TestPredictions } from '../../../components/TestPredictions';
import { TopLosses } from '../../../components/TopLosses';
import { DashboardError } from '../../../src/server/errors';
import { readRunCached } from '../../../src/server/runCache';
import type { RunDetail } from '../../../src/server/runTypes';
import { pct, runFileUrl } from '../../../lib/urls';

async function load(id: string): Promise<{ run: RunDetail; since: string }> {
  try {
    // The fingerprint is taken before reading, so a change made while reading still triggers a live update.
    const { run, fp } = await readRunCached(id);
    return { run, since: fp };
  } catch (err) {
    // A bad or missing run id (traversal attempts included) is a plain 404 page that names nothing else.
    if (err instanceof DashboardError && err.status < 500) notFound();
    throw err;
  }
}

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return { title: id.slice(0, 80) };
}

/** One run: live curves, epoch table, batch, confusion matrix, top losses, test predictions. */
export default async function RunPage({ params }: { params: Promise<{ id: string }> }) {
  await connection();
  const { id } = await params;
  const { run, since } = await load(id);
  const interp = run.interpretation;
  return (
    <>
      <p className="muted">
        <Link href="/">← Runs</Link>
      </p>
      <h1>
        {run.id} <span className={`status ${run.status}`} data-testid="run-status">{run.status}</span>
        <LiveUpdates runId={run.id} running={run.status === 'running'} since={since} />
      </h1>
      <ul className="facts">
        <li><span>arch</span>{run.arch ?? '—'}</li>
        <li><span>dataset</span>{run.dataset ?? '—'}</li>
        <li><span>classes</span>{run.classes.join(', ') || '—'}</li>
        <li><span>epochs</span>{run.epochs}{run.totalEpochs ? ` / ${run.totalEpochs}` : ''}</li>
        {run.status === 'running' && run.totalIters ? (
          <li data-testid="run-progress">
            <span>progress</span>
            {run.batches.length} / {run.totalIters} batches ({Math.round((100 * run.batches.length) / run.totalIters)}%)
          </li>
        ) : null}
        <li><span>best accuracy</span><b data-testid="run-best-accuracy">{pct(run.bestAccuracy)}</b></li>
        <li><span>started</span>{run.date.replace('T', ' ').slice(0, 19)}</li>
        {run.modelFiles.length ? (
          <li>
            <Link href={`/predict?run=${encodeURIComponent(run.id)}`}>Predict with this model →</Link>
          </li>
        ) : null}
      </ul>
      {run.error ? (
        <p className="error-box">
          {run.status === 'interrupted' ? 'Interrupted' : 'Failed'}: {run.error}
          {run.status === 'interrupted' && run.resumable ? <> — continue with <code>fastts train --resume runs/{run.id}</code></> : null}
        </p>
      ) : null}
      {run.warnings.length ? (
        <div className="warnings">
          {run.warnings.map((w) => (
            <div key={w}>{w}</div>
          ))}
        </div>
      ) : null}

      <h2>Training</h2>
      <RunCharts run={run} />
      <h2>Epochs</h2>
      <EpochTable metrics={run.metrics} />

      <h2>A training batch</h2>
      {run.images.batch ? (
        // eslint-disable-next-line @next/next/no-img-element
        <img className="plot" src={runFileUrl(run.id, 'batch.png')} alt="a training batch with labels" data-testid="batch-grid" />
      ) : (
        <p className="muted">{run.status === 'running' ? 'Not written yet.' : 'No batch.png in this run.'}</p>
      )}

      <h2>Confusion matrix</h2>
      {interp ? (
        <ConfusionMatrix runId={run.id} interp={interp} />
      ) : run.images.confusionMatrix ? (
        // eslint-disable-next-line @next/next/no-img-element
        <img className="plot" src={runFileUrl(run.id, 'confusion_matrix.png')} alt="confusion matrix" />
      ) : (
        <p className="muted">Not computed yet (written when training ends).</p>
      )}

      <h2>Top losses</h2>
      {interp ? (
        <>
          <p className="muted">prediction/actual · loss/probability</p>
          <TopLosses runId={run.id} interp={interp} png={run.images.topLosses} />
        </>
      ) : run.images.topLosses ? (
        // eslint-disable-next-line @next/next/no-img-element
        <img className="plot" src={runFileUrl(run.id, 'top_losses.png')} alt="top losses" />
      ) : (
        <p className="muted">Not computed yet (written when training ends).</p>
      )}

      <h2>Test predictions</h2>
      {run.status === 'running' && run.testPredictions.length === 0 ? (
        <p className="muted">Written when training ends (when the data has a test folder).</p>
      ) : (
        <TestPredictions runId={run.id} preds={run.testPredictions} />
      )}

      <details style={{ marginTop: '1.5rem' }}>
        <summary>config.json</summary>
        <pre className="card" style={{ overflowX: 'auto' }}>{JSON.stringify(run.config, null, 2)}</pre>
      </details>
    </>
  );
}
