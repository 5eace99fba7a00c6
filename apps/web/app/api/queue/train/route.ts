import { DashboardError, toSafeError } from '../../../../src/server/errors';
import { assertSameSite, handle } from '../../../../src/server/http';
import { submitTrainJob } from '../../../../src/server/queue';

/** Largest form accepted (a handful of short fields). */
const MAX_BODY = 4096;

async function readForm(req: Request): Promise<URLSearchParams> {
  const type = req.headers.get('content-type') ?? '';
  const text = await req.text();
  if (text.length > MAX_BODY) throw new DashboardError('the form is too large', 413);
  if (type.startsWith('application/json')) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new DashboardError('the body is not valid JSON', 400);
    }
    if (!body || typeof body !== 'object') throw new DashboardError('the body must be a JSON object', 400);
    return new URLSearchParams(Object.entries(body as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  }
  if (type.startsWith('application/x-www-form-urlencoded')) return new URLSearchParams(text);
  throw new DashboardError('send the form (application/x-www-form-urlencoded) or JSON', 415);
}

/**
 * POST /api/queue/train: enqueues a training job for a data set folder under the data root (same origin only).
 * A form post from the Queue page is answered with a redirect back to it (with the new job, or the error); JSON
 * with `{ id, runId }` (or `{ error }`).
 */
export async function POST(req: Request) {
  const isForm = (req.headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded');
  if (!isForm) {
    return handle(async () => {
      assertSameSite(req);
      return Response.json(await submitTrainJob(await readForm(req)), { status: 201, headers: { 'cache-control': 'no-store' } });
    });
  }
  try {
    assertSameSite(req);
    const { id } = await submitTrainJob(await readForm(req));
    return new Response(null, { status: 303, headers: { location: `/queue?submitted=${encodeURIComponent(id)}` } });
  } catch (err) {
    const { status, message } = toSafeError(err);
    if (status === 403) return Response.json({ error: message }, { status });
    if (status >= 500) console.error('[fastts dashboard]', err);
    return new Response(null, { status: 303, headers: { location: `/queue?error=${encodeURIComponent(message)}` } });
  }
}
