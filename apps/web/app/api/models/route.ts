import { listCachedArchs } from '../../../src/server/files';
import { handle } from '../../../src/server/http';

/** GET /api/models: the architectures whose pretrained weights are in the cache (FASTTS_HOME/models). */
export async function GET() {
  return handle(async () => Response.json({ archs: await listCachedArchs() }, { headers: { 'cache-control': 'no-store' } }));
}
