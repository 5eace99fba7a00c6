import { serveModelFile } from '../../../../../src/server/files';
import { handle } from '../../../../../src/server/http';

/** GET /api/models/<arch>/<file>: a pretrained weight file from the cache, for training in the browser. */
export async function GET(_req: Request, ctx: { params: Promise<{ arch: string; path: string[] }> }) {
  return handle(async () => {
    const { arch, path } = await ctx.params;
    return serveModelFile(arch, path);
  });
}
