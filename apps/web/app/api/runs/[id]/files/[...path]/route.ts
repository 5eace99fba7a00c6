import { serveRunFile } from '../../../../../../src/server/files';
import { handle } from '../../../../../../src/server/http';

/** GET /api/runs/<id>/files/<path...>: a file of the run directory (images, CSV, JSON, the exported model). */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string; path: string[] }> }) {
  return handle(async () => {
    const { id, path } = await ctx.params;
    return serveRunFile(id, path);
  });
}
