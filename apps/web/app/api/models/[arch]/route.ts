import { listArchFiles } from '../../../../src/server/files';
import { handle } from '../../../../src/server/http';

/** GET /api/models/<arch>: the weight files of one cached architecture (what the browser may fetch). */
export async function GET(_req: Request, ctx: { params: Promise<{ arch: string }> }) {
  return handle(async () => {
    const { arch } = await ctx.params;
    return Response.json({ arch, files: await listArchFiles(arch) }, { headers: { 'cache-control': 'no-store' } });
  });
}
