import { handle } from '../../../src/server/http';
import { listRuns } from '../../../src/server/runs';
import { saveBrowserRun } from '../../../src/server/upload';

/** GET /api/runs: the runs list as JSON. */
export async function GET() {
  return handle(async () => Response.json({ runs: await listRuns() }, { headers: { 'cache-control': 'no-store' } }));
}

/** POST /api/runs: saves a run trained in the browser (multipart; same origin; size- and type-limited). */
export async function POST(req: Request) {
  return handle(async () => Response.json(await saveBrowserRun(req), { status: 201 }));
}
