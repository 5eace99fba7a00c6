import { handle } from '../../../../src/server/http';
import { readRunCached } from '../../../../src/server/runCache';

/** GET /api/runs/<id>: everything about one run, as JSON. */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }) {
  return handle(async () => {
    const { id } = await ctx.params;
    return Response.json((await readRunCached(id)).run, { headers: { 'cache-control': 'no-store' } });
  });
}
