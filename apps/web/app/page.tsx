import Link from 'next/link';
import { connection } from 'next/server';
import { runsDir } from '../src/server/config';
import { listRuns } from '../src/server/runs';
import { pct, runPageUrl } from '../lib/urls';
import { AutoRefresh } from '../components/AutoRefresh';

export const metadata = { title: 'Runs' };

/** The runs list: every run directory the CLI wrote, newest first. */
export default async function RunsPage() {
  await connection();
  const runs = await listRuns();
  return (
    <>
      <h1>Runs</h1>
      <AutoRefresh active={runs.some((r) => r.status === 'running')} />
      {runs.length === 0 ? (
        <div className="card" data-testid="no-runs">
          <p>No runs yet in the runs directory.</p>
          <p className="muted">
            Train one with <code>fastts train &lt;dataDir&gt; --out runs/&lt;name&gt;</code>, or point the dashboard
            at another directory with <code>--runs</code>.
          </p>
        </div>
      ) : (
        <div className="table-wrap">
          <table className="runs" data-testid="runs-table">
            <thead>
              <tr>
                <th>run</th>
                <th>status</th>
                <th>arch</th>
                <th>dataset</th>
                <th className="hide-phone">classes</th>
                <th>best accuracy</th>
                <th>epochs</th>
                <th className="hide-phone">date</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id} data-testid="run-row" data-run-id={r.id}>
                  <td>
                    <Link href={runPageUrl(r.id)}>{r.id}</Link>
                  </td>
                  <td>
                    <span className={`status ${r.status}`}>{r.status}</span>
                  </td>
                  <td>{r.arch ?? '—'}</td>
                  <td>{r.dataset ?? '—'}</td>
                  <td className="hide-phone" title={r.classes.join(', ')}>
                    {r.classes.length > 4 ? `${r.classes.slice(0, 4).join(', ')} … (${r.classes.length})` : r.classes.join(', ') || '—'}
                  </td>
                  <td data-testid="best-accuracy">{pct(r.bestAccuracy)}</td>
                  <td>
                    {r.epochs}
                    {r.totalEpochs ? ` / ${r.totalEpochs}` : ''}
                  </td>
                  <td className="hide-phone">{r.date.replace('T', ' ').slice(0, 19)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted" style={{ marginTop: '1rem', fontSize: '0.85rem' }}>
        Reading {runsDir()}
      </p>
    </>
  );
}
