import { runFileUrl } from '../lib/urls';

/**
 * A run item's thumbnail (served from the run's `thumbs/`), or a placeholder naming the file. With `runId` null,
 * `thumb` is already a URL (an object URL of an image trained on in the browser).
 */
export function Thumb({ runId, thumb, alt }: { runId: string | null; thumb: string | null; alt: string }) {
  if (!thumb) {
    return (
      <div className="thumb placeholder" role="img" aria-label={alt}>
        no thumbnail
      </div>
    );
  }
  // eslint-disable-next-line @next/next/no-img-element
  return <img className="thumb" src={runId === null ? thumb : runFileUrl(runId, thumb)} alt={alt} loading="lazy" />;
}
