/** Helpers for route handlers: JSON errors with safe messages, never a stack trace. */
import { toSafeError } from './errors';

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
