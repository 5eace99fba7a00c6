'use client';
/**
 * In-browser training: folder in, fast.ai's fitOneCycle on a pretrained CNN, live curves and epoch table,
 * then the confusion matrix, the top losses and a download of the exported model.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { BatchRecord, EpochMetrics } from '../src/server/runTypes';
import type { BackendChoice } from '../lib/browser/engine';
import { fastts } from '../lib/browser/engine';
import { MAX_TRAIN_FILES, rejectReason } from '../lib/browser/limits';
import { saveRun } from '../lib/browser/saveRun';
import { describeLayout, trainInBrowser, type BrowserTrainResult, type RelFile } from '../lib/browser/train';
import { runPageUrl } from '../lib/urls';
import { pct } from '../lib/urls';
import { ConfusionMatrix } from './ConfusionMatrix';
import { Dropzone } from './Dropzone';
import { EpochTable } from './EpochTable';
import { LineChart } from './LineChart';
import { TopLosses } from './TopLosses';

function relFromFiles(files: File[]): RelFile[] {
  return files.map((file) => ({ path: (file.webkitRelativePath || file.name).replace(/\\/g, '/').replace(/^\/+/, ''), file }));
}

export function TrainClient({ archs }: { archs: string[] }) {
  const preferred = archs.find((a) => a.startsWith('mobilenet')) ?? archs[0] ?? '';
  const [files, setFiles] = useState<RelFile[]>([]);
  const [rejected, setRejected] = useState<string[]>([]);
  const [arch, setArch] = useState(preferred);
  const [size, setSize] = useState(128);
  const [bs, setBs] = useState(16);
  const [epochs, setEpochs] = useState(2);
  const [maxLr, setMaxLr] = useState(3e-3);
  const [unfreezeEpochs, setUnfreezeEpochs] = useState(0);
  const [validPct, setValidPct] = useState(0.2);
  const [seed, setSeed] = useState(42);
  const [backend, setBackend] = useState<BackendChoice>('auto');
  const [status, setStatus] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [batches, setBatches] = useState<BatchRecord[]>([]);
  const [metrics, setMetrics] = useState<EpochMetrics[]>([]);
  const [result, setResult] = useState<BrowserTrainResult | null>(null);
  const [running, setRunning] = useState(false);
  const [saved, setSaved] = useState<{ id: string } | { error: string } | 'saving' | null>(null);
  const abort = useRef<AbortController | null>(null);
  const layout = useMemo(() => describeLayout(files.map((f) => f.path)), [files]);
  const download = useMemo(
    () => (result ? URL.createObjectURL(new Blob([result.exportBytes as BlobPart], { type: 'application/octet-stream' })) : null),
    [result],
  );
  useEffect(() => () => (download ? URL.revokeObjectURL(download) : undefined), [download]);

  function accept(rel: RelFile[]) {
    const errs: string[] = [];
    let ok = rel.filter((r) => {
      const f = r.file as File;
      const why = rejectReason({ name: r.path, type: f.type, size: f.size });
      if (why) errs.push(why);
      return !why;
    });
    if (ok.length > MAX_TRAIN_FILES) {
      errs.push(`${ok.length} images: only ${MAX_TRAIN_FILES} are used`);
      ok = ok.slice(0, MAX_TRAIN_FILES);
    }
    setRejected(errs);
    setFiles(ok);
    setResult(null);
  }

  async function onDrop(list: File[], dt: DataTransfer | null) {
    if (dt) {
      const f = await fastts();
      return accept(await f.filesFromDataTransfer(dt));
    }
    accept(relFromFiles(list));
  }

  async function start() {
    setError(null);
    setBatches([]);
    setMetrics([]);
    setResult(null);
    setSaved(null);
    setRunning(true);
    abort.current = new AbortController();
    try {
      const r = await trainInBrowser(
        files,
        { arch, size, bs, epochs, maxLr, unfreezeEpochs, validPct, seed, backend },
        { status: setStatus, batch: (b) => setBatches((bs) => [...bs, b]), epoch: (m) => setMetrics((ms) => [...ms, m]) },
        abort.current.signal,
      );
      setResult(r);
      setStatus(
        `done in ${r.seconds.toFixed(0)} s on ${r.backend}: ${r.counts.train} training and ${r.counts.valid} validation images`,
      );
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setStatus('');
    } finally {
      setRunning(false);
    }
  }

  async function save() {
    if (!result) return;
    setSaved('saving');
    try {
      const name = layout.root.split('/').pop() || 'dropped folder';
      const id = await saveRun({
        options: { arch, size, bs, epochs, maxLr, unfreezeEpochs, validPct, seed, backend },
        result,
        files,
        itemFiles: result.itemFiles,
        batches,
        metrics,
        dataset: name,
      });
      setSaved({ id });
    } catch (e) {
      setSaved({ error: e instanceof Error ? e.message : String(e) });
    }
  }

  const best = metrics.reduce<number | null>(
    (b, m) => (m.accuracy !== null && (b === null || m.accuracy > b) ? m.accuracy : b),
    null,
  );
  return (
    <div data-testid="train">
      <Dropzone onFiles={onDrop} directory testId="train-input">
        <p>Drop a data set folder here</p>
      </Dropzone>
      {files.length ? (
        <p data-testid="train-files">
          {files.length} images ·{' '}
          {layout.train
            ? `train/${layout.valid ? ' + valid/' : ` + ${Math.round(validPct * 100)}% held out`}`
            : `label folders + ${Math.round(validPct * 100)}% held out`}
          {layout.test ? ' + test/' : ''} · classes: {layout.labels.join(', ') || '—'}
        </p>
      ) : null}
      {rejected.length ? (
        <details className="warnings">
          <summary>{rejected.length} file(s) skipped</summary>
          {rejected.slice(0, 50).map((r, i) => (
            <div key={i}>{r}</div>
          ))}
        </details>
      ) : null}
      <div className="row">
        <label>
          arch{' '}
          <select value={arch} onChange={(e) => setArch(e.target.value)} data-testid="arch-select">
            {archs.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </label>
        <label>
          size{' '}
          <input
            type="number"
            min={32}
            max={512}
            step={16}
            value={size}
            onChange={(e) => setSize(Number(e.target.value))}
            style={{ width: '5rem' }}
            data-testid="size"
          />
        </label>
        <label>
          bs{' '}
          <input
            type="number"
            min={1}
            max={256}
            value={bs}
            onChange={(e) => setBs(Number(e.target.value))}
            style={{ width: '4.5rem' }}
            data-testid="bs"
          />
        </label>
        <label>
          epochs{' '}
          <input
            type="number"
            min={1}
            max={50}
            value={epochs}
            onChange={(e) => setEpochs(Number(e.target.value))}
            style={{ width: '4.5rem' }}
            data-testid="epochs"
          />
        </label>
        <label>
          max lr{' '}
          <input
            type="number"
            min={1e-6}
            max={1}
            step="any"
            value={maxLr}
            onChange={(e) => setMaxLr(Number(e.target.value))}
            style={{ width: '6rem' }}
            data-testid="max-lr"
          />
        </label>
        <label title="fast.ai's second stage: unfreeze, then fitOneCycle with slice(1e-5, 3e-4)">
          unfrozen epochs{' '}
          <input
            type="number"
            min={0}
            max={50}
            value={unfreezeEpochs}
            onChange={(e) => setUnfreezeEpochs(Number(e.target.value))}
            style={{ width: '4.5rem' }}
            data-testid="unfreeze-epochs"
          />
        </label>
        <label>
          valid %{' '}
          <input
            type="number"
            min={5}
            max={50}
            value={Math.round(validPct * 100)}
            onChange={(e) => setValidPct(Number(e.target.value) / 100)}
            style={{ width: '4.5rem' }}
          />
        </label>
        <label>
          seed <input type="number" value={seed} onChange={(e) => setSeed(Number(e.target.value))} style={{ width: '5rem' }} />
        </label>
        <label>
          backend{' '}
          <select value={backend} onChange={(e) => setBackend(e.target.value as BackendChoice)} data-testid="train-backend">
            <option value="auto">auto</option>
            <option value="webgpu">WebGPU</option>
            <option value="wasm">wasm</option>
            <option value="webgl">WebGL</option>
          </select>
        </label>
        <button
          type="button"
          className="primary"
          disabled={running || files.length === 0 || !arch}
          onClick={start}
          data-testid="train-start"
        >
          Train
        </button>
        {running ? (
          <button type="button" onClick={() => abort.current?.abort()} data-testid="train-stop">
            Stop
          </button>
        ) : null}
      </div>
      {archs.length === 0 ? (
        <p className="error-box">No pretrained weights in the server&apos;s cache (FASTTS_HOME/models).</p>
      ) : null}
      <p className="muted" data-testid="train-status" aria-live="polite">
        {status}
      </p>
      {error ? (
        <p className="error-box" data-testid="train-error">
          {error}
        </p>
      ) : null}
      {batches.length || metrics.length ? (
        <>
          <h2>
            Training{' '}
            <span data-testid="train-accuracy" data-value={best ?? ''}>
              {best !== null ? `· best accuracy ${pct(best)}` : ''}
            </span>
          </h2>
          <div className="charts">
            <LineChart
              title="Loss"
              testId="train-loss-chart"
              xLabel="iteration"
              series={[{ name: 'train (batch)', color: '#2563eb', points: batches.map((b) => [b.iter, b.loss] as const) }]}
            />
            <LineChart
              title="Learning rate (head)"
              xLabel="iteration"
              series={[{ name: 'lr', color: '#16a34a', points: batches.map((b) => [b.iter, b.lr ?? NaN] as const) }]}
            />
            <LineChart
              title="Momentum (beta1)"
              xLabel="iteration"
              series={[{ name: 'mom', color: '#9333ea', points: batches.map((b) => [b.iter, b.mom ?? NaN] as const) }]}
            />
          </div>
          <EpochTable metrics={metrics} />
        </>
      ) : null}
      {result ? (
        <>
          <h2>Confusion matrix</h2>
          <ConfusionMatrix runId={null} interp={result.interpretation} />
          <h2>Top losses</h2>
          <TopLosses runId={null} interp={result.interpretation} />
          <h2>Model</h2>
          <p>
            <a href={download ?? '#'} download={`${arch}-${result.exportName}`} data-testid="download-model">
              Download the exported model ({(result.exportBytes.length / 1048576).toFixed(1)} MB)
            </a>
          </p>
          <p className="row">
            <button
              type="button"
              onClick={save}
              disabled={saved !== null && saved !== 'saving' && 'id' in saved}
              data-testid="save-run"
            >
              Save to the runs list
            </button>
            {saved === 'saving' ? <span className="muted">saving…</span> : null}
            {saved && saved !== 'saving' && 'id' in saved ? (
              <a href={runPageUrl(saved.id)} data-testid="saved-run">
                {saved.id}
              </a>
            ) : null}
            {saved && saved !== 'saving' && 'error' in saved ? <span className="error-box">{saved.error}</span> : null}
          </p>
        </>
      ) : null}
    </div>
  );
}
