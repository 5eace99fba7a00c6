import type { Interpretation } from '../src/server/runTypes';
import { runFileUrl } from '../lib/urls';
import { Thumb } from './Thumb';

/** fast.ai's plot_top_losses as a grid: each tile titled prediction/actual/loss/probability. */
export function TopLosses({ runId, interp, png }: { runId: string | null; interp: Interpretation; png?: boolean }) {
  const items = interp.topLosses.map((i) => interp.items[i]!).filter(Boolean);
  if (items.length === 0) return <p className="muted">No validation items recorded.</p>;
  const pictures = items.some((it) => it.thumb);
  return (
    <>
      {!pictures && png && runId !== null ? (
        // The run has no thumbnails: its rendered grid (top_losses.png) shows the pictures.
        // eslint-disable-next-line @next/next/no-img-element
        <img className="plot" src={runFileUrl(runId, 'top_losses.png')} alt="top losses" data-testid="top-losses-png" />
      ) : null}
      <div className={`grid${pictures ? '' : ' captions'}`} data-testid="top-losses" data-k={items.length}>
        {items.map((it) => (
          <figure key={it.index} className={`tile${it.actual !== it.pred ? ' wrong' : ''}`} data-testid="top-loss">
            <Thumb runId={runId} thumb={it.thumb} alt={it.file} />
            <figcaption>
              <strong>
                {interp.classes[it.pred]}/{interp.classes[it.actual]}
              </strong>
              <span title="loss / probability of the actual class">
                {it.loss.toFixed(2)} / {(it.probActual ?? it.prob).toFixed(2)}
              </span>
              <span className="file" title={it.file}>
                {it.file.split('/').pop()}
              </span>
            </figcaption>
          </figure>
        ))}
      </div>
    </>
  );
}
