/**
 * The runs list's server-side query: filter (arch, dataset, status, id text), sort (date, best accuracy) and
 * paginate, over the index's cached sorted views. Shared by `GET /api/runs` and the runs page.
 */
import { DashboardError } from './errors';
import { byDateDesc } from './runs';
import type { RunsIndex } from './runsIndex';
import type { RunStatus, RunSummary } from './runTypes';

/** The sort keys: `date` (when the run started) and `accuracy` (its best validation accuracy). */
export const RUN_SORTS = ['date', 'accuracy'] as const;
export type RunSort = (typeof RUN_SORTS)[number];
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'finished', 'failed', 'interrupted', 'unknown'];
/** Rows per page unless `limit` says otherwise, and the most a page may hold. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** A parsed runs query. Filters are exact matches (status: any of the listed); `q` is a substring of the id. */
export interface RunsQuery {
  sort: RunSort;
  /** `desc`: newest / best first (the default). */
  order: 'asc' | 'desc';
  arch: string | null;
  dataset: string | null;
  status: RunStatus[] | null;
  q: string | null;
  /** 1-based. */
  page: number;
  limit: number;
}

/** How many runs have each value of a filterable field (over all runs, so the choices do not vanish). */
export interface Facet {
  value: string;
  count: number;
}

/** One page of the runs list. */
export interface RunsPage {
  runs: RunSummary[];
  /** Runs matching the filters (all pages). */
  total: number;
  page: number;
  pages: number;
  limit: number;
  query: RunsQuery;
  facets: { arch: Facet[]; dataset: Facet[]; status: Facet[] };
  /** The index version this page was cut from (changes when any run changes). */
  version: number;
}

/** A query parameter that is not understood (400). */
export class InvalidQueryError extends DashboardError {
  constructor(message: string) {
    super(message, 400);
  }
}

type Params = URLSearchParams | Record<string, string | string[] | undefined>;

function param(p: Params, name: string): string | null {
  const v = p instanceof URLSearchParams ? p.get(name) : p[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === null || s.trim() === '' ? null : s.trim().slice(0, 200);
}

function positiveInt(p: Params, name: string, dflt: number, max: number): number {
  const s = param(p, name);
  if (s === null) return dflt;
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new InvalidQueryError(`invalid ${name} ${JSON.stringify(s.slice(0, 20))}: use a whole number from 1 to ${max}`);
  }
  return n;
}

/**
 * Parses `sort`, `order`, `arch`, `dataset`, `status` (comma-separated), `q`, `page` and `limit`. Throws
 * {@link InvalidQueryError} (400) naming the parameter and its valid values; `lenient` falls back to the default
 * for a bad value instead (for pages, where a hand-edited URL should still show the list).
 */
export function parseRunsQuery(p: Params, lenient = false): RunsQuery {
  const get = <T>(f: () => T, dflt: T): T => {
    try {
      return f();
    } catch (e) {
      if (lenient) return dflt;
      throw e;
    }
  };
  const sort = get(() => {
    const s = param(p, 'sort') ?? 'date';
    if (!(RUN_SORTS as readonly string[]).includes(s))
      throw new InvalidQueryError(`invalid sort ${JSON.stringify(s.slice(0, 20))}: use ${RUN_SORTS.join(' or ')}`);
    return s as RunSort;
  }, 'date' as RunSort);
  const order = get(() => {
    const s = param(p, 'order') ?? 'desc';
    if (s !== 'asc' && s !== 'desc')
      throw new InvalidQueryError(`invalid order ${JSON.stringify(s.slice(0, 20))}: use asc or desc`);
    return s;
  }, 'desc' as const);
  const status = get(() => {
    const s = param(p, 'status');
    if (s === null) return null;
    const list = s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    for (const x of list) {
      if (!(RUN_STATUSES as readonly string[]).includes(x))
        throw new InvalidQueryError(
          `invalid status ${JSON.stringify(x.slice(0, 20))}: use ${RUN_STATUSES.join(', ')} (comma-separated for several)`,
        );
    }
    return list.length ? (list as RunStatus[]) : null;
  }, null);
  return {
    sort,
    order,
    arch: param(p, 'arch'),
    dataset: param(p, 'dataset'),
    status,
    q: param(p, 'q'),
    page: get(() => positiveInt(p, 'page', 1, 1_000_000), 1),
    limit: get(() => positiveInt(p, 'limit', DEFAULT_LIMIT, MAX_LIMIT), DEFAULT_LIMIT),
  };
}

/** Best accuracy, highest first; runs without one last; ties newest first. */
function byAccuracyDesc(a: RunSummary, b: RunSummary): number {
  if (a.bestAccuracy !== b.bestAccuracy) {
    if (a.bestAccuracy === null) return 1;
    if (b.bestAccuracy === null) return -1;
    return b.bestAccuracy - a.bestAccuracy;
  }
  return byDateDesc(a, b);
}

/** The comparator of a sort and order. Runs without a best accuracy stay last in both orders. */
function comparator(sort: RunSort, order: 'asc' | 'desc'): (a: RunSummary, b: RunSummary) => number {
  if (sort === 'date') return order === 'desc' ? byDateDesc : (a, b) => byDateDesc(b, a);
  if (order === 'desc') return byAccuracyDesc;
  return (a, b) => {
    if (a.bestAccuracy === null || b.bestAccuracy === null) return byAccuracyDesc(a, b);
    return byAccuracyDesc(b, a);
  };
}

function facet(runs: readonly RunSummary[], field: (r: RunSummary) => string | null): Facet[] {
  const counts = new Map<string, number>();
  for (const r of runs) {
    const v = field(r);
    if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => (a.value < b.value ? -1 : 1));
}

/** Cuts one page out of the index for a query. */
export function queryRuns(index: RunsIndex, q: RunsQuery): RunsPage {
  const sorted = index.sorted(`${q.sort}:${q.order}`, comparator(q.sort, q.order));
  const text = q.q?.toLowerCase() ?? null;
  const statuses = q.status ? new Set<string>(q.status) : null;
  const filtered =
    q.arch === null && q.dataset === null && statuses === null && text === null
      ? sorted
      : sorted.filter(
          (r) =>
            (q.arch === null || r.arch === q.arch) &&
            (q.dataset === null || r.dataset === q.dataset) &&
            (statuses === null || statuses.has(r.status)) &&
            (text === null || r.id.toLowerCase().includes(text)),
        );
  const start = (q.page - 1) * q.limit;
  return {
    runs: filtered.slice(start, start + q.limit),
    total: filtered.length,
    page: q.page,
    pages: Math.max(1, Math.ceil(filtered.length / q.limit)),
    limit: q.limit,
    query: q,
    facets: {
      arch: facet(sorted, (r) => r.arch),
      dataset: facet(sorted, (r) => r.dataset),
      status: facet(sorted, (r) => r.status),
    },
    version: index.currentVersion,
  };
}
