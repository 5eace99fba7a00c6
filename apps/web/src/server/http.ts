/** Helpers for route handlers: JSON errors with safe messages, never a stack trace. */
import { DashboardError, toSafeError } from './errors';

/** Runs a route handler body; any error becomes `{ error }` JSON with its status (500s are logged, not shown). */
export async function handle(fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (err) {
    const { status, message } = toSafeError(err);
    if (status >= 500) console.error('[fastts dashboard]', err);
    return Response.json({ error: message }, { status, headers: { 'cache-control': 'no-store' } });
  }
}

/**
 * Rejects a request that changes something unless it comes from a page of the dashboard itself: the browser's
 * `Sec-Fetch-Site` must say `same-origin` (a form post from a page served with `Referrer-Policy: no-referrer`
 * carries `Origin: null`), else, for clients that do not send it, `Origin` must match `Host`.
 */
export function assertSameSite(req: Request): void {
  const site = req.headers.get('sec-fetch-site');
  const origin = req.headers.get('origin');
  const host = req.headers.get('host');
  const ok =
    site !== null
      ? site === 'same-origin'
      : origin !== null && host !== null && (origin === `http://${host}` || origin === `https://${host}`);
  if (!ok)
    throw new DashboardError('requests that change something are accepted only from the dashboard itself (same origin)', 403);
}
