import Link from 'next/link';
import { connection } from 'next/server';
import { bestValidLoss, CompareCharts, compareLabel, COMPARE_COLORS, configDifferences } from '../../components/CompareCharts';
import { DashboardError } from '../../src/server/errors';
import { readRunCached } from '../../src/server/runCache';
import type { RunDetail } from '../../src/server/runTypes';
import { fix, pct, runPageUrl } from '../../lib/urls';

export const metadata = { title: 'Compare runs' };

type SearchParams = Record<string, string | string[] | undefined>;

/** Runs compared at most. */
const MAX_RUNS = 10;

type Sort = 'accuracy' | 'valid_loss';

/** URL of this page for `ids` sorted by `sort`. */
function compareUrl(ids: readonly string[], sort: Sort): string {
  const q = new URLSearchParams(ids.map((id) => ['run', id]));
  q.set('sort', sort);
  return `/compare?${q.toString()}`;
}

/**
 * Runs side by side (selected on the runs list): their validation-loss and accuracy curves overlaid, and a table
 * of the config keys that differ between them, sorted by the best accuracy (or the best validation loss).
 */
export default async function ComparePage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await connection();
  const params = await searchParams;
  const ids = [...new Set(typeof params.run === 'string' ? [params.run] : (params.run ?? []))].slice(0, MAX_RUNS);
  const sort: Sort = params.sort === 'valid_loss' ? 'valid_loss' : 'accuracy';
  const runs: RunDetail[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    try {
      runs.push((await readRunCached(id)).run);
    } catch (err) {
      if (err instanceof DashboardError && err.status < 500) missing.push(id.slice(0, 80));
      else throw err;
    }
  }
  if (runs.length < 2) {
    return (
      <>
        <h1>Compare runs</h1>
        <div className="card" data-testid="compare-empty">
          <p>Select two runs or more on the runs list, then “Compare selected”.</p>
          {missing.length ? <p className="muted">Not found: {missing.join(', ')}</p> : null}
          <Link href="/">back to the runs</Link>
        </div>
      </>
    );
  }
  const key = (r: RunDetail) => (sort === 'accuracy' ? -(r.bestAccuracy ?? -Infinity) : (bestValidLoss(r) ?? Infinity));
  const order = runs.map((r, i) => ({ r, i })).sort((a, b) => key(a.r) - key(b.r) || a.i - b.i);
  const diffs = configDifferences(runs);
  return (
    <>
      <h1>Compare runs</h1>
      {missing.length ? <p className="warnings">Not found: {missing.join(', ')}</p> : null}
      <CompareCharts runs={runs} />
      <h2>What differs</h2>
      <div className="table-wrap">
        <table className="runs" data-testid="compare-table">
          <thead>
            <tr>
              <th />
              <th>run</th>
              <th aria-sort={sort === 'accuracy' ? 'descending' : 'none'}>
                <Link href={compareUrl(ids, 'accuracy')} data-testid="compare-sort-accuracy">
                  best accuracy{sort === 'accuracy' ? ' ↓' : ''}
                </Link>
              </th>
              <th aria-sort={sort === 'valid_loss' ? 'ascending' : 'none'}>
                <Link href={compareUrl(ids, 'valid_loss')} data-testid="compare-sort-valid-loss">
                  best valid loss{sort === 'valid_loss' ? ' ↑' : ''}
                </Link>
              </th>
              {diffs.map((d) => (
                <th key={d.key} data-testid="diff-key">
                  {d.key}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {order.map(({ r, i }) => (
              <tr key={r.id} data-testid="compare-row" data-run-id={r.id}>
                <td>
                  <span style={{ color: COMPARE_COLORS[i % COMPARE_COLORS.length], fontWeight: 700 }}>■ {compareLabel(i)}</span>
                </td>
                <td>
                  <Link href={runPageUrl(r.id)}>{r.id}</Link>
                </td>
                <td data-testid="compare-accuracy-cell">{pct(r.bestAccuracy)}</td>
                <td>{fix(bestValidLoss(r))}</td>
                {diffs.map((d) => (
                  <td key={d.key}>{d.values[i]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {diffs.length === 0 ? <p className="muted">Their configs are the same.</p> : null}
    </>
  );
}
