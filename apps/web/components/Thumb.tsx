import { runFileUrl } from '../lib/urls';

/**
 * A run item's thumbnail (served from the run's `thumbs/`), or nothing when the run has none. With `runId` null,
 * `thumb` is already a URL (an object URL of an image trained on in the browser).
 */
export function Thumb({ runId, thumb, alt }: { runId: string | null; thumb: string | null; alt: string }) {
  // Without a thumbnail the tile shows its caption only (the run's rendered PNG grid stands in for pictures).
  if (!thumb) return null;
  // eslint-disable-next-line @next/next/no-img-element
  return <img className="thumb" src={runId === null ? thumb : runFileUrl(runId, thumb)} alt={alt} loading="lazy" />;
}
