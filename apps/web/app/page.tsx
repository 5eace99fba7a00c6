import Link from 'next/link';
import { connection } from 'next/server';
import { runsDir } from '../src/server/config';
import { runsIndex } from '../src/server/runsIndex';
import { parseRunsQuery, queryRuns, RUN_STATUSES, type Facet, type RunsQuery } from '../src/server/runsQuery';
import { pct, runPageUrl, runsListUrl } from '../lib/urls';
import { RunsLive } from '../components/RunsLive';

export const metadata = { title: 'Runs' };

type SearchParams = Record<string, string | string[] | undefined>;

/** A column header that sorts by `sort` (toggling the order when it already does). */
function SortHeader({
  query,
  sort,
  label,
  className,
}: {
  query: RunsQuery;
  sort: 'date' | 'accuracy';
  label: string;
  className?: string;
}) {
  const active = query.sort === sort;
  const order = active && query.order === 'desc' ? 'asc' : 'desc';
  return (
    <th className={className} aria-sort={active ? (query.order === 'desc' ? 'descending' : 'ascending') : 'none'}>
      <Link href={runsListUrl({ ...query, sort, order, page: 1 })} data-testid={`sort-${sort}`}>
        {label}
        {active ? (query.order === 'desc' ? ' ↓' : ' ↑') : ''}
      </Link>
    </th>
  );
}

/** A filter choice among the values the runs have, with their counts. */
function FacetSelect({ name, value, facets }: { name: string; value: string | null; facets: readonly Facet[] }) {
  return (
    <label>
      {name}{' '}
      <select name={name} defaultValue={value ?? ''} data-testid={`filter-${name}`}>
        <option value="">any</option>
        {facets.map((f) => (
          <option key={f.value} value={f.value}>{`${f.value} (${f.count})`}</option>
        ))}
      </select>
    </label>
  );
}

/** The runs list: one page of the runs index, filtered and sorted on the server, updated live. */
export default async function RunsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await connection();
  const query = parseRunsQuery(await searchParams, true);
  const index = runsIndex();
  await index.ready();
  let list = queryRuns(index, query);
  if (list.page > list.pages) list = queryRuns(index, { ...query, page: list.pages });
  const { runs, facets } = list;
  const filtered = query.arch !== null || query.dataset !== null || query.status !== null || query.q !== null;
  const everything = facets.status.reduce((n, f) => n + f.count, 0);
  return (
    <>
      <h1>
        Runs <RunsLive />
      </h1>
      {everything === 0 ? (
        <div className="card" data-testid="no-runs">
          <p>No runs yet in the runs directory.</p>
          <p className="muted">
            Train one with <code>fastts train &lt;dataDir&gt; --out runs/&lt;name&gt;</code>, or point the dashboard at another
            directory with <code>--runs</code>.
          </p>
        </div>
      ) : (
        <>
          <form method="get" action="/" className="row filters" data-testid="runs-filters">
            <FacetSelect name="arch" value={query.arch} facets={facets.arch} />
            <FacetSelect name="dataset" value={query.dataset} facets={facets.dataset} />
            <label>
              status{' '}
              <select name="status" defaultValue={query.status?.join(',') ?? ''} data-testid="filter-status">
                <option value="">any</option>
                {RUN_STATUSES.map((s) => {
                  const n = facets.status.find((f) => f.value === s)?.count ?? 0;
                  return n || query.status?.includes(s) ? <option key={s} value={s}>{`${s} (${n})`}</option> : null;
                })}
              </select>
            </label>
            <label>
              run{' '}
              <input
                type="search"
                name="q"
                defaultValue={query.q ?? ''}
                placeholder="id contains…"
                size={14}
                data-testid="filter-q"
              />
            </label>
            <input type="hidden" name="sort" value={query.sort} />
            <input type="hidden" name="order" value={query.order} />
            <button type="submit" data-testid="filter-apply">
              Apply
            </button>
            {filtered ? <Link href={runsListUrl({ sort: query.sort, order: query.order })}>clear</Link> : null}
          </form>
          {runs.length === 0 ? (
            <div className="card" data-testid="no-match">
              <p>No runs match these filters.</p>
            </div>
          ) : (
            <div className="table-wrap">
              <table className="runs" data-testid="runs-table">
                <thead>
                  <tr>
                    <th>
                      <span className="sr-only">compare</span>
                    </th>
                    <th>run</th>
                    <th>status</th>
                    <th>arch</th>
                    <th>dataset</th>
                    <th className="hide-phone">classes</th>
                    <SortHeader query={list.query} sort="accuracy" label="best accuracy" />
                    <th>epochs</th>
                    <SortHeader query={list.query} sort="date" label="date" className="hide-phone" />
                  </tr>
                </thead>
                <tbody>
                  {runs.map((r) => (
                    <tr key={r.id} data-testid="run-row" data-run-id={r.id}>
                      <td>
                        <input
                          type="checkbox"
                          name="run"
                          value={r.id}
                          form="compare-form"
                          aria-label={`compare ${r.id}`}
                          data-testid="compare-check"
                        />
                      </td>
                      <td>
                        <Link href={runPageUrl(r.id)}>{r.id}</Link>
                      </td>
                      <td>
                        <span className={`status ${r.status}`} title={r.error ?? undefined}>
                          {r.status}
                        </span>
                      </td>
                      <td>{r.arch ?? '—'}</td>
                      <td>{r.dataset ?? '—'}</td>
                      <td className="hide-phone" title={r.classes.join(', ')}>
                        {r.classes.length > 4
                          ? `${r.classes.slice(0, 4).join(', ')} … (${r.classes.length})`
                          : r.classes.join(', ') || '—'}
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
          {runs.length > 1 ? (
            <form id="compare-form" method="get" action="/compare" className="row" data-testid="compare-form">
              <button type="submit" data-testid="compare-button">
                Compare selected
              </button>
              <span className="muted">their curves overlaid and what differs in their configs</span>
            </form>
          ) : null}
          <nav className="row pager" data-testid="runs-pager">
            {list.page > 1 ? (
              <Link href={runsListUrl({ ...list.query, page: list.page - 1 })} data-testid="page-prev">
                ← previous
              </Link>
            ) : null}
            <span className="muted" data-testid="runs-total">
              page {list.page} of {list.pages} · {list.total} {list.total === 1 ? 'run' : 'runs'}
              {filtered ? ` (of ${everything})` : ''}
            </span>
            {list.page < list.pages ? (
              <Link href={runsListUrl({ ...list.query, page: list.page + 1 })} data-testid="page-next">
                next →
              </Link>
            ) : null}
          </nav>
        </>
      )}
      <p className="muted" style={{ marginTop: '1rem', fontSize: '0.85rem' }}>
        Reading {runsDir()}
      </p>
    </>
  );
}
