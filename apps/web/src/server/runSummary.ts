/**
 * A run's summary (one row of the runs list) read cheaply: `config.json`, `status.json`, `metrics.jsonl` (one
 * line per epoch) and the names in `model/`; `interpretation.json` only when the config lists no classes.
 * `batches.jsonl`, the interpretation's items, thumbnails and test predictions are never read for the list.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJsonl, str } from './parse';
import { listFiles, parseJson, readRunFile } from './runFiles';
import { bestAccuracy, configClasses, datasetName, exportFile, plannedEpochs, runDate, toMetrics } from './runRecords';
import { decideStatus } from './runStatus';
import type { RunSummary } from './runTypes';

/** The files a summary is read from; the summary is re-read only when one of their sizes or mtimes changes. */
const SUMMARY_FILES = ['config.json', 'status.json', 'metrics.jsonl', 'model', 'interpretation.json'] as const;
/** Stat'ed too, never read: its mtime says whether a run without `status.json` is still being written. */
const FRESHNESS_FILES = ['batches.jsonl'] as const;

/** What a cheap look at a run directory says: whether its summary must be re-read, and how fresh it is. */
export interface RunProbe {
  /** `size:mtime` of the directory and the summary files. */
  fp: string;
  /** Newest mtime among the directory and its files (batches.jsonl included). */
  lastWriteMs: number;
  /** The directory's birth time (or mtime): the run's date when nothing else says. */
  bornMs: number;
}

/** Stats a run directory and the files of its summary (reads nothing). Null when the directory is gone. */
export async function probeRun(dir: string): Promise<RunProbe | null> {
  const dirStat = await stat(dir).catch(() => null);
  if (!dirStat?.isDirectory()) return null;
  const stats = await Promise.all(
    [...SUMMARY_FILES, ...FRESHNESS_FILES].map((f) => stat(join(/*turbopackIgnore: true*/ dir, f)).catch(() => null)),
  );
  const parts = [`${dirStat.mtimeMs}`];
  let lastWriteMs = dirStat.mtimeMs;
  stats.forEach((st, i) => {
    if (i < SUMMARY_FILES.length) parts.push(st ? `${st.size}:${st.mtimeMs}` : '-');
    if (st) lastWriteMs = Math.max(lastWriteMs, st.mtimeMs);
  });
  return { fp: parts.join('|'), lastWriteMs, bornMs: dirStat.birthtimeMs || dirStat.mtimeMs };
}

/** A run as the index keeps it: its summary and what re-deciding its status needs. */
export interface IndexedRun {
  summary: RunSummary;
  /** The parsed `status.json` (null when absent or malformed). */
  statusJson: Record<string, unknown> | null;
  /** Whether `model/` holds files (a finished export). */
  hasModel: boolean;
  /** The export's weight file relative to the run directory (`model/export.safetensors`), for the predict page. */
  exportFile: string | null;
  probe: RunProbe;
}

/**
 * Reads the summary of run `id` in directory `dir` (already resolved inside the runs directory). Null when the
 * folder is not (yet) a run: neither a config nor a metrics line.
 */
export async function readRunSummary(id: string, dir: string, probe: RunProbe, now = Date.now()): Promise<IndexedRun | null> {
  const warnings: string[] = [];
  const [configF, statusF, metricsF] = await Promise.all(
    ['config.json', 'status.json', 'metrics.jsonl'].map((f) => readRunFile(dir, f, warnings).catch(() => null)),
  );
  const config = parseJson(configF ?? null, 'config.json', warnings) ?? {};
  const statusJson = parseJson(statusF ?? null, 'status.json', warnings);
  const growing = !statusJson || str(statusJson.status) === 'running';
  const metrics = toMetrics(parseJsonl(metricsF?.text ?? '', growing).rows);
  if (Object.keys(config).length === 0 && metrics.length === 0) return null;
  const modelFiles = await listFiles(dir, 'model', 2);
  let classes = configClasses(config);
  if (classes.length === 0) {
    const interp = parseJson(
      await readRunFile(dir, 'interpretation.json', warnings).catch(() => null),
      'interpretation.json',
      warnings,
    );
    classes = interp ? configClasses(interp) : [];
  }
  const { status, error } = decideStatus(statusJson, modelFiles.length > 0, probe.lastWriteMs, now);
  return {
    summary: {
      id,
      arch: str(config.arch),
      dataset: datasetName(config),
      classes,
      bestAccuracy: bestAccuracy(metrics),
      epochs: metrics.length,
      totalEpochs: plannedEpochs(config),
      status,
      date: runDate(config, statusJson, probe.bornMs),
      error,
    },
    statusJson,
    hasModel: modelFiles.length > 0,
    exportFile: exportFile(modelFiles),
    probe,
  };
}

/** Re-decides an indexed run's status for `now` (a pid that died, a run gone stale); true when it changed. */
export function redecideStatus(run: IndexedRun, now = Date.now()): boolean {
  const { status, error } = decideStatus(run.statusJson, run.hasModel, run.probe.lastWriteMs, now);
  if (status === run.summary.status && error === run.summary.error) return false;
  run.summary = { ...run.summary, status, error };
  return true;
}
