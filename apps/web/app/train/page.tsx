import { connection } from 'next/server';
import { TrainClient } from '../../components/TrainClient';
import { listCachedArchs } from '../../src/server/files';

export const metadata = { title: 'Train in the browser' };

/** In-browser training: drop a folder, pick an architecture from the weight cache, run fitOneCycle. */
export default async function TrainPage() {
  await connection();
  const archs = await listCachedArchs();
  return (
    <>
      <h1>Train in the browser</h1>
      <p className="muted">
        Drop a folder laid out as <code>train/&lt;label&gt;/…</code> (with <code>valid/&lt;label&gt;/…</code>, or a validation
        percentage), or just label folders. The images stay in this browser; only the pretrained weights come from the server.
      </p>
      <TrainClient archs={archs} />
    </>
  );
}
