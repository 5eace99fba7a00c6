'use client';
/**
 * The confusion matrix as a table of buttons (rows: actual, columns: predicted); clicking a cell lists the
 * validation images in it, with their loss and the probability of the prediction.
 */
import { useState } from 'react';
import type { Interpretation } from '../src/server/runTypes';
import { Thumb } from './Thumb';
import { mostConfused } from '../lib/mostConfused';

export function ConfusionMatrix({ runId, interp }: { runId: string | null; interp: Interpretation }) {
  const [cell, setCell] = useState<[number, number] | null>(null);
  const { classes, confusion } = interp;
  const max = Math.max(1, ...confusion.flat());
  const chosen = cell ? interp.items.filter((it) => it.actual === cell[0] && it.pred === cell[1]) : [];
  return (
    <div className="cm">
      <div className="table-wrap">
        <table className="cm-table" data-testid="confusion-matrix">
          <thead>
            <tr>
              <th className="corner">actual \ predicted</th>
              {classes.map((c) => (
                <th key={c} scope="col">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {confusion.map((row, a) => (
              <tr key={a}>
                <th scope="row">{classes[a]}</th>
                {row.map((n, p) => {
                  const alpha = n / max;
                  const selected = cell?.[0] === a && cell?.[1] === p;
                  return (
                    <td key={p}>
                      <button
                        type="button"
                        className={`cm-cell${a === p ? ' diag' : ''}${selected ? ' selected' : ''}`}
                        style={{
                          background: `rgba(${a === p ? '37,99,235' : '220,38,38'},${0.08 + 0.8 * alpha})`,
                          color: alpha > 0.55 ? '#fff' : 'inherit',
                        }}
                        data-testid={`cm-cell-${a}-${p}`}
                        data-count={n}
                        aria-pressed={selected}
                        aria-label={`${n} ${classes[a]} predicted as ${classes[p]}`}
                        onClick={() => setCell(selected ? null : [a, p])}
                      >
                        {n}
                      </button>
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {(() => {
        const pairs = mostConfused(classes, confusion);
        return pairs.length ? (
          <p className="muted" data-testid="most-confused">
            Most confused (actual → predicted):{' '}
            {pairs.slice(0, 8).map(([a, p, n], i) => (
              <span key={`${a}>${p}`}>
                {i ? ', ' : ''}
                {a} → {p} ({n})
              </span>
            ))}
          </p>
        ) : null;
      })()}
      {cell ? (
        <div className="cm-items" data-testid="cm-items">
          <h3>
            {classes[cell[0]]} predicted as {classes[cell[1]]}: {chosen.length} image{chosen.length === 1 ? '' : 's'}
          </h3>
          {chosen.length === 0 ? <p className="muted">No images in this cell.</p> : null}
          <div className="grid">
            {chosen.map((it) => (
              <figure key={it.index} className="tile" data-testid="cm-item">
                <Thumb runId={runId} thumb={it.thumb} alt={it.file} />
                <figcaption>
                  <span className="file" title={it.file}>
                    {it.file.split('/').pop()}
                  </span>
                  <span>
                    loss {it.loss.toFixed(2)} · p {it.prob.toFixed(2)}
                  </span>
                </figcaption>
              </figure>
            ))}
          </div>
        </div>
      ) : (
        <p className="muted">Click a cell to see its images.</p>
      )}
    </div>
  );
}
