/** URL builders shared by server and client components. */

/** URL of a file inside a run directory (`rel` uses `/` between plain-name segments). */
export function runFileUrl(id: string, rel: string): string {
  return `/api/runs/${encodeURIComponent(id)}/files/${rel.split('/').map(encodeURIComponent).join('/')}`;
}

/** URL of a run's page. */
export function runPageUrl(id: string): string {
  return `/runs/${encodeURIComponent(id)}`;
}

/** URL of a weight-cache file. */
export function modelFileUrl(arch: string, rel: string): string {
  return `/api/models/${encodeURIComponent(arch)}/${rel.split('/').map(encodeURIComponent).join('/')}`;
}

/** Formats a 0..1 number as a percentage with one decimal. */
export function pct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(1)}%`;
}

/** Formats a number with `d` decimals, or a dash. */
export function fix(v: number | null | undefined, d = 4): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d);
}

/** The runs list's query as it appears in URLs (the defaults are left out). */
export interface RunsListParams {
  sort?: string;
  order?: string;
  arch?: string | null;
  dataset?: string | null;
  status?: readonly string[] | null;
  q?: string | null;
  page?: number;
  limit?: number;
}

/** URL of the runs list for a query: only the parameters that differ from the defaults (date, desc, page 1, 50). */
export function runsListUrl(p: RunsListParams): string {
  const s = new URLSearchParams();
  if (p.sort && p.sort !== 'date') s.set('sort', p.sort);
  if (p.order && p.order !== 'desc') s.set('order', p.order);
  if (p.arch) s.set('arch', p.arch);
  if (p.dataset) s.set('dataset', p.dataset);
  if (p.status?.length) s.set('status', p.status.join(','));
  if (p.q) s.set('q', p.q);
  if (p.limit && p.limit !== 50) s.set('limit', String(p.limit));
  if (p.page && p.page > 1) s.set('page', String(p.page));
  const qs = s.toString();
  return qs ? `/?${qs}` : '/';
}
