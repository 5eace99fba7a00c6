import { handle } from '../../../../../src/server/http';
import { runFingerprint } from '../../../../../src/server/runs';
import { runsIndex } from '../../../../../src/server/runsIndex';
import { sseResponse } from '../../../../../src/server/sse';
import { watchRun } from '../../../../../src/server/runWatchers';

/**
 * GET /api/runs/<id>/events: server-sent events while a run trains. Sends `change` whenever the run's files
 * change (the page then re-renders), and `end` once the run is no longer running. All viewers of a run share one
 * watcher (runWatchers.ts). `?since=<fingerprint>`: the fingerprint the page was rendered from, so that a change
 * made before the stream opened still counts.
 */
export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }) {
  return handle(async () => {
    const { id } = await ctx.params;
    const current = await runFingerprint(id); // validates the id (400/404) before the stream starts
    await runsIndex().ready();
    const sinceParam = new URL(req.url).searchParams.get('since');
    const since = sinceParam !== null && sinceParam.length < 2000 ? sinceParam : current;
    return sseResponse(req, (send, close) => {
      send('hello', { id });
      return watchRun(id, current, since, (ev) => {
        if (ev.type === 'change') send('change', { status: ev.status, epochs: ev.epochs });
        else {
          send('end', { status: ev.status });
          close();
        }
      });
    });
  });
}
