import { handle } from '../../../src/server/http';
import { runsIndex } from '../../../src/server/runsIndex';
import { parseRunsQuery, queryRuns } from '../../../src/server/runsQuery';
import { saveBrowserRun } from '../../../src/server/upload';

/**
 * GET /api/runs: one page of the runs list as JSON, from the runs index (never re-reads the runs).
 * `?sort=date|accuracy&order=desc|asc&arch=&dataset=&status=running,failed&q=&page=1&limit=50`.
 */
export async function GET(req: Request) {
  return handle(async () => {
    const query = parseRunsQuery(new URL(req.url).searchParams);
    const index = runsIndex();
    await index.ready();
    return Response.json(queryRuns(index, query), { headers: { 'cache-control': 'no-store' } });
  });
}

/** POST /api/runs: saves a run trained in the browser (multipart; same origin; size- and type-limited). */
export async function POST(req: Request) {
  return handle(async () => {
    const saved = await saveBrowserRun(req);
    await runsIndex().refreshRun(saved.id);
    return Response.json(saved, { status: 201 });
  });
}
