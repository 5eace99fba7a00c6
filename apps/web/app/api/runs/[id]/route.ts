import { handle } from '../../../../src/server/http';
import { readRun } from '../../../../src/server/runs';

/** GET /api/runs/<id>: everything about one run, as JSON. */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }) {
  return handle(async () => {
    const { id } = await ctx.params;
    return Response.json(await readRun(id), { headers: { 'cache-control': 'no-store' } });
  });
}
