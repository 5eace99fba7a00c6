/** Server-sent event streams: named events as JSON, a heartbeat comment, a bounded lifetime, cleanup on abort. */

/** A comment line every so often keeps proxies and the browser from timing the stream out. */
export const HEARTBEAT_MS = 15_000;
/** Streams end after this long; the browser's EventSource reconnects by itself. */
export const MAX_STREAM_MS = 30 * 60 * 1000;

/** Sends one event; returns false once the stream is closed. */
export type SendEvent = (event: string, data: unknown) => boolean;

/**
 * An SSE response. `start` is called with `send` and `close`, and returns the function that releases what it
 * subscribed to; that runs exactly once, when the client goes away, `close()` is called or the lifetime ends.
 */
export function sseResponse(req: Request, start: (send: SendEvent, close: () => void) => () => void): Response {
  const enc = new TextEncoder();
  let release: (() => void) | null = null;
  let done = false;
  let beat: ReturnType<typeof setInterval> | undefined;
  let life: ReturnType<typeof setTimeout> | undefined;
  let ctrl: ReadableStreamDefaultController<Uint8Array> | null = null;
  const finish = () => {
    if (done) return;
    done = true;
    clearInterval(beat);
    clearTimeout(life);
    req.signal.removeEventListener('abort', finish);
    try {
      release?.();
    } catch {
      /* releasing must not throw into the stream */
    }
    try {
      ctrl?.close();
    } catch {
      /* already closed */
    }
  };
  const write = (text: string): boolean => {
    if (done || !ctrl) return false;
    try {
      ctrl.enqueue(enc.encode(text));
      return true;
    } catch {
      finish();
      return false;
    }
  };
  const send: SendEvent = (event, data) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      ctrl = controller;
      req.signal.addEventListener('abort', finish);
      beat = setInterval(() => write(': heartbeat\n\n'), HEARTBEAT_MS);
      life = setTimeout(finish, MAX_STREAM_MS);
      const r = start(send, finish);
      if (done) r();
      else release = r;
    },
    cancel: finish,
  });
  return new Response(stream, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    },
  });
}
