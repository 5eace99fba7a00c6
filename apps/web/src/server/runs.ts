/**
 * Reading run directories: the runs list and one run's details, from the files the CLI writes
 * (RUN_FORMAT.md). Every file is read through {@link resolveInside}, size-capped, and parsed tolerantly.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { runsDir } from './config';
import { NotFoundError } from './errors';
import { num, obj, parseCsv, parseJsonl, str } from './parse';
import { assertPlainName, isPlainName, realDir, resolveInside } from './safePath';
import type {
  BatchRecord,
  EpochMetrics,
  InterpItem,
  Interpretation,
  RunDetail,
  RunStatus,
  RunSummary,
  TestPrediction,
} from './runTypes';

/** Largest run file the dashboard parses (a bigger one is reported, not read). */
export const MAX_RUN_FILE_BYTES = 32 * 1024 * 1024;
/** A run whose files have not changed for this long, with no live writer, is considered stopped. */
export const STALE_MS = 10 * 60 * 1000;

/** Resolves a run id to its real directory inside the runs directory (400 for a bad id, 404 when absent). */
export async function resolveRunDir(id: string): Promise<string> {
  assertPlainName('run id', id);
  return resolveInside(runsDir(), [id], { kind: `run ${id}`, expect: 'directory' });
}

interface FileText {
  text: string;
  mtimeMs: number;
  size: number;
}

/** Reads a run file by its relative path (plain-name segments), or null when missing/escaping. */
async function readRunFile(runDir: string, rel: string, warnings: string[]): Promise<FileText | null> {
  let real: string;
  try {
    real = await resolveInside(runDir, rel.split('/'), { kind: rel });
  } catch {
    return null;
  }
  const st = await stat(real);
  if (st.size > MAX_RUN_FILE_BYTES) {
    warnings.push(`${rel} is ${st.size} bytes, over the ${MAX_RUN_FILE_BYTES}-byte limit: not read`);
    return null;
  }
  return { text: await readFile(real, 'utf8'), mtimeMs: st.mtimeMs, size: st.size };
}

/** Parses a JSON file, adding a warning (not throwing) when it is malformed. */
function parseJson(f: FileText | null, name: string, warnings: string[]): Record<string, unknown> | null {
  if (!f) return null;
  try {
    const o = obj(JSON.parse(f.text));
    if (!o) warnings.push(`${name} is not a JSON object: ignored`);
    return o;
  } catch {
    warnings.push(`${name} is not valid JSON (still being written?): ignored`);
    return null;
  }
}

function toMetrics(rows: Record<string, unknown>[]): EpochMetrics[] {
  return rows
    .filter((r) => num(r.epoch) !== null)
    .map((r) => ({
      epoch: num(r.epoch)!,
      phase: str(r.phase) ?? '',
      train_loss: num(r.train_loss),
      valid_loss: num(r.valid_loss),
      accuracy: num(r.accuracy),
      error_rate: num(r.error_rate),
      seconds: num(r.seconds),
    }));
}

function toBatches(rows: Record<string, unknown>[]): BatchRecord[] {
  const out: BatchRecord[] = [];
  rows.forEach((r, i) => {
    const loss = num(r.loss);
    if (loss === null) return;
    const lr = Array.isArray(r.lr) ? num(r.lr[r.lr.length - 1]) : num(r.lr);
    out.push({
      iter: num(r.iter) ?? i,
      epoch: num(r.epoch) ?? 0,
      phase: str(r.phase),
      loss,
      lr,
      mom: num(r.mom),
    });
  });
  return out;
}

/** A thumbnail path from a run file is kept only when it is a relative path of plain names. */
function safeThumb(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  const parts = s.split('/');
  return parts.every(isPlainName) ? s : null;
}

function toInterpretation(o: Record<string, unknown> | null, warnings: string[]): Interpretation | null {
  if (!o) return null;
  const classes = Array.isArray(o.classes) ? o.classes.filter((c): c is string => typeof c === 'string') : [];
  const c = classes.length;
  const confusion = Array.isArray(o.confusion)
    ? o.confusion.map((row) => (Array.isArray(row) ? row.map((v) => num(v) ?? 0) : []))
    : [];
  if (c === 0 || confusion.length !== c || confusion.some((r) => r.length !== c)) {
    warnings.push('interpretation.json has no classes or a confusion matrix that is not classes x classes: ignored');
    return null;
  }
  const items: InterpItem[] = [];
  const raw = Array.isArray(o.items) ? o.items : [];
  raw.forEach((it, i) => {
    const r = obj(it);
    if (!r) return;
    const actual = num(r.actual);
    const pred = num(r.pred);
    if (actual === null || pred === null || actual < 0 || actual >= c || pred < 0 || pred >= c) return;
    items.push({
      index: num(r.index) ?? i,
      file: str(r.file) ?? `item ${i}`,
      thumb: safeThumb(r.thumb),
      actual,
      pred,
      loss: num(r.loss) ?? 0,
      prob: num(r.prob) ?? 0,
      probActual: num(r.probActual) ?? (actual === pred ? num(r.prob) : c === 2 && num(r.prob) !== null ? 1 - num(r.prob)! : null),
    });
  });
  let topLosses = Array.isArray(o.topLosses)
    ? o.topLosses.map((v) => num(v)).filter((v): v is number => v !== null && v >= 0 && v < items.length)
    : [];
  if (topLosses.length === 0) {
    const k = Math.min(num(o.k) ?? 9, items.length);
    topLosses = items
      .map((it, i) => [it.loss, i] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, k)
      .map(([, i]) => i);
  }
  return { classes, confusion, items, topLosses };
}

function toTestPredictions(f: FileText | null, thumbs: Set<string>): TestPrediction[] {
  if (!f) return [];
  const rows = parseCsv(f.text);
  const header = rows.shift()?.map((h) => h.trim().toLowerCase()) ?? [];
  const fi = header.indexOf('file');
  const li = header.indexOf('label');
  const pi = header.indexOf('probability');
  if (fi < 0 || li < 0) return [];
  return rows.map((r, i) => {
    const thumb = [`thumbs/test/${i}.jpg`, `thumbs/test/${i}.png`].find((t) => thumbs.has(t)) ?? null;
    return { file: r[fi] ?? '', label: r[li] ?? '', probability: Number(r[pi] ?? NaN), thumb };
  });
}

/** Relative paths (with `/`) of the files under `dir`, `maxDepth` levels deep, plain names only. */
async function listFiles(root: string, sub: string, maxDepth = 2): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string, depth: number) {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!isPlainName(e.name)) continue;
      const p = join(dir, e.name);
      if (e.isDirectory() && depth < maxDepth) await walk(p, depth + 1);
      else if (e.isFile()) out.push(relative(root, p).split(sep).join('/'));
    }
  }
  await walk(join(root, sub), 1);
  return out.sort();
}

function pidAlive(pid: number | null): boolean | null {
  if (pid === null || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Decides the run's status from `status.json` or, when absent, from what files exist and how fresh they are. */
function decideStatus(
  statusJson: Record<string, unknown> | null,
  hasModel: boolean,
  lastWriteMs: number,
  now: number,
): { status: RunStatus; error: string | null } {
  const s = str(statusJson?.status);
  const error = str(statusJson?.error);
  if (s === 'finished' || s === 'failed' || s === 'interrupted') return { status: s, error };
  if (s === 'running') {
    const alive = pidAlive(num(statusJson?.pid));
    if (alive === false || (alive === null && now - lastWriteMs > STALE_MS)) {
      return { status: 'failed', error: error ?? 'the training process is gone without finishing the run' };
    }
    return { status: 'running', error: null };
  }
  if (hasModel) return { status: 'finished', error: null };
  if (now - lastWriteMs < STALE_MS) return { status: 'running', error: null };
  return { status: 'unknown', error: null };
}

function datasetName(config: Record<string, unknown>): string | null {
  const direct = str(config.dataset);
  if (direct) return direct;
  const dir = str(config.dataDir) ?? str(config.data) ?? str(config.path);
  return dir ? basename(dir.replace(/[\\/]+$/, '')) : null;
}

/** Reads one run in full. `id` is validated (400) and must name a directory inside the runs dir (404). */
export async function readRun(id: string): Promise<RunDetail> {
  const dir = await resolveRunDir(id);
  const warnings: string[] = [];
  const [configF, statusF, metricsF, batchesF, interpF, testF] = await Promise.all(
    ['config.json', 'status.json', 'metrics.jsonl', 'batches.jsonl', 'interpretation.json', 'test_predictions.csv'].map(
      (f) => readRunFile(dir, f, warnings),
    ),
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
    listFiles(dir, 'model', 2).then((fs) => fs),
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
  const classes =
    interpretation?.classes ??
    (Array.isArray(config.classes) ? config.classes.filter((c): c is string => typeof c === 'string') : []);
  const accs = metrics.map((r) => r.accuracy).filter((a): a is number => a !== null);
  const epochsPlanned = (num(config.epochs) ?? 0) + (num(config.unfreezeEpochs) ?? num(config.unfreeze_epochs) ?? 0);
  const date =
    str(config.createdAt) ?? str(config.startedAt) ?? str(statusJson?.startedAt) ?? new Date(dirStat.birthtimeMs || dirStat.mtimeMs).toISOString();
  return {
    id,
    arch: str(config.arch),
    dataset: datasetName(config),
    classes,
    bestAccuracy: accs.length ? Math.max(...accs) : null,
    epochs: metrics.length,
    totalEpochs: epochsPlanned > 0 ? epochsPlanned : null,
    status,
    date,
    error,
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
    version: files.map((f) => `${f?.size ?? 0}:${f?.mtimeMs ?? 0}`).join('|') + `|${modelFiles.length}`,
  };
}

/** Strips a run down to what the list shows. */
export function summarize(r: RunDetail): RunSummary {
  const { id, arch, dataset, classes, bestAccuracy, epochs, totalEpochs, status, date, error } = r;
  return { id, arch, dataset, classes, bestAccuracy, epochs, totalEpochs, status, date, error };
}

/**
 * Lists the runs: every directory directly inside the runs dir whose name is a plain name, whose real path
 * stays inside the runs dir, and that holds a `config.json` or `metrics.jsonl`. Newest first.
 */
export async function listRuns(): Promise<RunSummary[]> {
  const root = await realDir(runsDir());
  if (!root) return [];
  const entries = await readdir(root, { withFileTypes: true });
  const runs: RunSummary[] = [];
  for (const e of entries) {
    if (!isPlainName(e.name) || !(e.isDirectory() || e.isSymbolicLink())) continue;
    try {
      const r = await readRun(e.name);
      if (Object.keys(r.config).length === 0 && r.metrics.length === 0) continue;
      runs.push(summarize(r));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  return runs.sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : a.id < b.id ? 1 : -1));
}

/** The files whose changes the live view follows. */
const WATCHED = ['config.json', 'status.json', 'metrics.jsonl', 'batches.jsonl', 'interpretation.json', 'test_predictions.csv', 'model'];

/** A cheap fingerprint of a run's watched files (sizes and mtimes), for change detection without reading them. */
export async function runFingerprint(id: string): Promise<string> {
  const dir = await resolveRunDir(id);
  const parts = await Promise.all(
    WATCHED.map(async (f) => {
      const st = await stat(join(/*turbopackIgnore: true*/ dir, f)).catch(() => null);
      return st ? `${st.size}:${st.mtimeMs}` : '-';
    }),
  );
  return parts.join('|');
}
