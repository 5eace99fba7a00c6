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
