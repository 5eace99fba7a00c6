'use client';
/**
 * The predict page's interactive part: choose a run's model, drop images, see each image's top-k classes.
 * Everything runs in the browser (WebGPU, else wasm); files are checked for type and size before decoding.
 */
import { useEffect, useRef, useState } from 'react';
import { ensureBackend, type BackendChoice, type BrowserModel, type ClassProb } from '../lib/browser/engine';
import { IMAGE_TYPES, MAX_PREDICT_FILES, rejectReason } from '../lib/browser/limits';
import { loadRunModel } from '../lib/browser/model';
import { pct } from '../lib/urls';
import { Dropzone } from './Dropzone';

export interface PredictRun {
  id: string;
  arch: string | null;
  classes: string[];
  /** The export file inside the run dir (`model/export.safetensors`). */
  file: string;
  accuracy: number | null;
}

interface Result {
  key: string;
  name: string;
  url: string;
  top: ClassProb[] | null;
  error: string | null;
}

export function PredictClient({ runs, initialRun }: { runs: PredictRun[]; initialRun: string | null }) {
  const [runId, setRunId] = useState(initialRun);
  const [k, setK] = useState(3);
  const [choice, setChoice] = useState<BackendChoice>('auto');
  const [status, setStatus] = useState('');
  const [backendLine, setBackendLine] = useState('');
  const [errors, setErrors] = useState<string[]>([]);
  const [results, setResults] = useState<Result[]>([]);
  const model = useRef<{ key: string; model: Promise<BrowserModel> } | null>(null);
  const run = runs.find((r) => r.id === runId) ?? null;

  useEffect(() => () => results.forEach((r) => URL.revokeObjectURL(r.url)), [results]);

  async function getModel(r: PredictRun): Promise<BrowserModel> {
    const key = `${r.id}|${choice}`;
    if (!model.current || model.current.key !== key) {
      const old = model.current;
      model.current = {
        key,
        model: (async () => {
          setStatus('starting the backend…');
          const rep = await ensureBackend(choice);
          setBackendLine(rep.description);
          setStatus(`downloading the model of ${r.id}…`);
          return loadRunModel(r.id, r.file);
        })(),
      };
      model.current.model.catch(() => (model.current = null));
      old?.model.then((m) => m.dispose()).catch(() => undefined);
    }
    return model.current.model;
  }

  async function onFiles(files: File[]) {
    if (!run) return;
    const errs: string[] = [];
    let ok = files.filter((f) => {
      const why = rejectReason(f);
      if (why) errs.push(why);
      return !why;
    });
    if (ok.length > MAX_PREDICT_FILES) {
      errs.push(`${ok.length} images: only the first ${MAX_PREDICT_FILES} are predicted`);
      ok = ok.slice(0, MAX_PREDICT_FILES);
    }
    setErrors(errs);
    const batch: Result[] = ok.map((f, i) => ({
      key: `${Date.now()}-${i}`,
      name: f.name,
      url: URL.createObjectURL(f),
      top: null,
      error: null,
    }));
    setResults(batch);
    if (batch.length === 0) return;
    try {
      const m = await getModel(run);
      for (let i = 0; i < ok.length; i++) {
        setStatus(`predicting ${i + 1}/${ok.length}…`);
        let top: ClassProb[] | null = null;
        let error: string | null = null;
        try {
          top = await m.predict(ok[i]!, k);
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
        setResults((rs) => rs.map((r) => (r.key === batch[i]!.key ? { ...r, top, error } : r)));
      }
      setStatus(`done: ${ok.length} image${ok.length === 1 ? '' : 's'}`);
    } catch (e) {
      setStatus('');
      setErrors((es) => [...es, e instanceof Error ? e.message : String(e)]);
    }
  }

  if (runs.length === 0) {
    return (
      <div className="card" data-testid="no-models">
        No finished run with an exported model yet. Train one with <code>fastts train</code> (or on the Train page).
      </div>
    );
  }
  return (
    <div data-testid="predict">
      <div className="row">
        <label>
          Model{' '}
          <select data-testid="run-select" value={runId ?? ''} onChange={(e) => setRunId(e.target.value)}>
            {runs.map((r) => (
              <option key={r.id} value={r.id}>
                {r.id} ({r.arch ?? '?'}, {pct(r.accuracy)})
              </option>
            ))}
          </select>
        </label>
        <label>
          top{' '}
          <input
            type="number"
            min={1}
            max={Math.max(1, run?.classes.length ?? 5)}
            value={k}
            onChange={(e) => setK(Math.max(1, Number(e.target.value) || 1))}
            style={{ width: '4.5rem' }}
          />
        </label>
        <label>
          backend{' '}
          <select value={choice} onChange={(e) => setChoice(e.target.value as BackendChoice)} data-testid="backend-select">
            <option value="auto">auto</option>
            <option value="webgpu">WebGPU</option>
            <option value="wasm">wasm</option>
            <option value="webgl">WebGL</option>
          </select>
        </label>
      </div>
      {run ? <p className="muted">Classes: {run.classes.join(', ')}</p> : null}
      <Dropzone onFiles={onFiles} accept={IMAGE_TYPES.join(',')} testId="predict-input">
        <p>Drop images here</p>
      </Dropzone>
      <p className="muted" data-testid="predict-status" aria-live="polite">
        {status} {backendLine ? `· ${backendLine}` : ''}
      </p>
      {errors.length ? (
        <div className="warnings" data-testid="predict-errors">
          {errors.map((e, i) => (
            <div key={i}>{e}</div>
          ))}
        </div>
      ) : null}
      <div className="grid">
        {results.map((r) => (
          <figure key={r.key} className="tile" data-testid="prediction" data-label={r.top?.[0]?.label ?? ''}>
            {/* eslint-disable-next-line @next/next/no-img-element */}
            <img className="thumb" src={r.url} alt={r.name} />
            <figcaption>
              <span className="file" title={r.name}>
                {r.name}
              </span>
              {r.error ? <span className="error-box">{r.error}</span> : null}
              {r.top ? (
                <ol className="topk">
                  {r.top.map((t) => (
                    <li key={t.label}>
                      <strong>{t.label}</strong> {pct(t.probability)}
                      <div className="bar">
                        <div style={{ width: `${(t.probability * 100).toFixed(1)}%` }} />
                      </div>
                    </li>
                  ))}
                </ol>
              ) : r.error ? null : (
                <span className="muted">…</span>
              )}
            </figcaption>
          </figure>
        ))}
      </div>
    </div>
  );
}
