/**
 * Reading run directories: one run's details (everything its page shows) and a one-off scan of the runs
 * directory, from the files the CLI writes (RUN_FORMAT.md). Serving uses the incrementally kept index
 * (runsIndex.ts) for the list and the fingerprint-keyed cache (runCache.ts) for run pages instead.
 */
import { readdir, stat } from 'node:fs/promises';
import { runsDir } from './config';
import { NotFoundError } from './errors';
import { num, parseJsonl, str } from './parse';
import { listFiles, parseJson, readRunFile, resolveRunDir, WATCHED_FILES } from './runFiles';
import {
  bestAccuracy,
  configClasses,
  datasetName,
  plannedEpochs,
  runDate,
  toBatches,
  toInterpretation,
  toMetrics,
  toTestPredictions,
} from './runRecords';
import { decideStatus } from './runStatus';
import { probeRun, readRunSummary } from './runSummary';
import { isPlainName, realDir } from './safePath';
import type { RunDetail, RunSummary } from './runTypes';

export { MAX_RUN_FILE_BYTES, resolveRunDir, runFingerprint } from './runFiles';
export { STALE_MS } from './runStatus';

/** A run read in full, with what re-deciding its status later needs (a pid may die while the files stay the same). */
export interface RunRead {
  detail: RunDetail;
  statusJson: Record<string, unknown> | null;
  lastWriteMs: number;
}

/** Reads one run in full. `id` is validated (400) and must name a directory inside the runs dir (404). */
export async function readRun(id: string): Promise<RunDetail> {
  return (await readRunFull(id)).detail;
}

/** {@link readRun}, with the parsed status.json and the newest mtime kept for re-deciding the status. */
export async function readRunFull(id: string): Promise<RunRead> {
  const dir = await resolveRunDir(id);
  const warnings: string[] = [];
  const [configF, statusF, metricsF, batchesF, interpF, testF] = await Promise.all(
    WATCHED_FILES.filter((f) => f !== 'model').map((f) => readRunFile(dir, f, warnings)),
  );
  const config = parseJson(configF ?? null, 'config.json', warnings) ?? {};
  const statusJson = parseJson(statusF ?? null, 'status.json', warnings);
  const running = str(statusJson?.status) === 'running' || !statusJson;
  const m = parseJsonl(metricsF?.text ?? '', running);
  const b = parseJsonl(batchesF?.text ?? '', running);
  if (m.bad) warnings.push(`metrics.jsonl: ${m.bad} malformed line(s) skipped`);
  if (b.bad) warnings.push(`batches.jsonl: ${b.bad} malformed line(s) skipped`);
  const metrics = toMetrics(m.rows);
  const batches = toBatches(b.rows);
  const interpretation = toInterpretation(parseJson(interpF ?? null, 'interpretation.json', warnings), warnings);
  const [topFiles, modelFiles, thumbFiles] = await Promise.all([
    listFiles(dir, '.', 1),
    listFiles(dir, 'model', 2),
    listFiles(dir, 'thumbs', 3),
  ]);
  const thumbs = new Set(thumbFiles);
  const testPredictions = toTestPredictions(testF ?? null, thumbs);
  if (interpretation) {
    for (const it of interpretation.items) if (it.thumb && !thumbs.has(it.thumb)) it.thumb = null;
  }
  const dirStat = await stat(dir);
  const files = [configF, statusF, metricsF, batchesF, interpF, testF];
  const lastWriteMs = Math.max(dirStat.mtimeMs, ...files.map((f) => f?.mtimeMs ?? 0));
  const { status, error } = decideStatus(statusJson, modelFiles.length > 0, lastWriteMs, Date.now());
  const detail: RunDetail = {
    id,
    arch: str(config.arch),
    dataset: datasetName(config),
    classes: interpretation?.classes ?? configClasses(config),
    bestAccuracy: bestAccuracy(metrics),
    epochs: metrics.length,
    totalEpochs: plannedEpochs(config),
    status,
    date: runDate(config, statusJson, dirStat.birthtimeMs || dirStat.mtimeMs),
    error,
    resumable: Boolean(str(statusJson?.checkpoint) ?? statusJson?.resume),
    config,
    metrics,
    batches,
    totalIters: num(statusJson?.totalIters) ?? num(config.totalIters),
    interpretation,
    testPredictions,
    images: {
      batch: topFiles.includes('batch.png'),
      confusionMatrix: topFiles.includes('confusion_matrix.png'),
      topLosses: topFiles.includes('top_losses.png'),
    },
    modelFiles,
    warnings,
  };
  return { detail, statusJson, lastWriteMs };
}

/** Strips a run down to what the list shows. */
export function summarize(r: RunSummary): RunSummary {
  const { id, arch, dataset, classes, bestAccuracy, epochs, totalEpochs, status, date, error } = r;
  return { id, arch, dataset, classes, bestAccuracy, epochs, totalEpochs, status, date, error };
}

/** Orders summaries newest first (ties: id, descending). */
export function byDateDesc(a: RunSummary, b: RunSummary): number {
  return a.date < b.date ? 1 : a.date > b.date ? -1 : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Reads every run's summary once (a one-off scan; the dashboard serves from the index instead): every directory
 * directly inside the runs dir whose name is a plain name, whose real path stays inside the runs dir, and that
 * holds a `config.json` or `metrics.jsonl`. Newest first.
 */
export async function listRuns(): Promise<RunSummary[]> {
  const root = await realDir(runsDir());
  if (!root) return [];
  const entries = await readdir(root, { withFileTypes: true });
  const runs: RunSummary[] = [];
  for (const e of entries) {
    if (!isPlainName(e.name) || !(e.isDirectory() || e.isSymbolicLink())) continue;
    try {
      const dir = await resolveRunDir(e.name);
      const probe = await probeRun(dir);
      const r = probe && (await readRunSummary(e.name, dir, probe));
      if (r) runs.push(r.summary);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  return runs.sort(byDateDesc);
}
