import { handle } from '../../../../../src/server/http';
import { readRun, runFingerprint } from '../../../../../src/server/runs';

/** How often the run's files are checked for changes. */
const POLL_MS = 1000;
/** A comment line keeps proxies and the browser from timing the stream out. */
const HEARTBEAT_MS = 15_000;
/** Streams end after this long; the browser's EventSource reconnects by itself. */
const MAX_STREAM_MS = 30 * 60 * 1000;

/**
 * GET /api/runs/<id>/events: server-sent events while a run trains. Sends `change` whenever the run's files
 * change (the page then re-renders), and `end` once the run is finished or failed.
 */
export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }) {
  return handle(async () => {
    const { id } = await ctx.params;
    const current = await runFingerprint(id); // validates the id (400/404) before the stream starts
    // The page passes the fingerprint it was rendered from, so that changes made before this stream opened count.
    const since = new URL(req.url).searchParams.get('since');
    let last = since !== null && since.length < 2000 ? since : current;
    const enc = new TextEncoder();
    let timer: ReturnType<typeof setInterval> | undefined;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const started = Date.now();
        let lastBeat = started;
        let busy = false;
        const send = (event: string, data: unknown) => controller.enqueue(enc.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
        const stop = () => {
          clearInterval(timer);
          try {
            controller.close();
          } catch {
            /* already closed */
          }
        };
        req.signal.addEventListener('abort', stop);
        send('hello', { id });
        if (last !== current) {
          last = current;
          send('change', {});
        }
        timer = setInterval(async () => {
          if (busy) return;
          busy = true;
          try {
            const now = Date.now();
            const fp = await runFingerprint(id);
            if (fp !== last) {
              last = fp;
              const run = await readRun(id);
              send('change', { status: run.status, epochs: run.epochs, iters: run.batches.length });
              if (run.status !== 'running') {
                send('end', { status: run.status });
                stop();
              }
            } else if (now - lastBeat > HEARTBEAT_MS) {
              lastBeat = now;
              controller.enqueue(enc.encode(': heartbeat\n\n'));
            }
            if (now - started > MAX_STREAM_MS) stop();
          } catch {
            send('end', { status: 'gone' });
            stop();
          } finally {
            busy = false;
          }
        }, POLL_MS);
      },
      cancel() {
        clearInterval(timer);
      },
    });
    return new Response(stream, {
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      },
    });
  });
}
