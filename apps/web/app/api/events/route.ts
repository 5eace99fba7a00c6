import { handle } from '../../../src/server/http';
import { runsIndex } from '../../../src/server/runsIndex';
import { sseResponse } from '../../../src/server/sse';

/**
 * GET /api/events: server-sent events for the runs list: `change` (with the index version) whenever a run
 * appears, disappears or its summary changes, at most about once a second. Every viewer listens to the one index.
 */
export async function GET(req: Request) {
  return handle(async () => {
    const index = runsIndex();
    await index.ready();
    return sseResponse(req, (send) => {
      send('hello', { version: index.currentVersion });
      return index.onChange(() => send('change', { version: index.currentVersion }));
    });
  });
}
