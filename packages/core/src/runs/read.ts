/**
 * Reading the run format tolerantly: a run that is still being written may end in an unfinished line; a file
 * written by an older or newer fastts may carry fields we do not know, or older names (`unfreeze_epochs`, `data`).
 * Bad lines are skipped and counted, never thrown: the dashboard shows what it can.
 */
import type { Interpretation, InterpItem, RunStatus } from './format.js';

/** A finite number or null. */
export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A string or null. */
export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** A plain object or null. */
export function obj(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/**
 * Parses JSON Lines. A final line without its newline is ignored when the file may still be growing (`growing`):
 * its writer has not finished it. Returns the objects and how many lines were bad.
 */
export function parseJsonl(text: string, growing: boolean): { rows: Record<string, unknown>[]; bad: number } {
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  if (!growing && last.trim() !== '') lines.push(last);
  const rows: Record<string, unknown>[] = [];
  let bad = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    try {
      const o = obj(JSON.parse(line));
      if (o) rows.push(o);
      else bad++;
    } catch {
      bad++;
    }
  }
  return { rows, bad };
}

/** A `metrics.jsonl` row as a reader sees it (a value the line lacks is null). */
export interface EpochMetrics {
  epoch: number;
  phase: string;
  train_loss: number | null;
  valid_loss: number | null;
  accuracy: number | null;
  error_rate: number | null;
  seconds: number | null;
}

/** A `batches.jsonl` row as a reader sees it. */
export interface BatchRecord {
  iter: number;
  epoch: number;
  phase: string | null;
  loss: number;
  /** Learning rate of the last layer group (the head). */
  lr: number | null;
  mom: number | null;
}

/** `metrics.jsonl` rows as fast.ai epoch-table rows (rows without an epoch number are dropped). */
export function toMetrics(rows: readonly Record<string, unknown>[]): EpochMetrics[] {
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

/** `batches.jsonl` rows as batch records (rows without a loss dropped; an lr array gives its last group). */
export function toBatches(rows: readonly Record<string, unknown>[]): BatchRecord[] {
  const out: BatchRecord[] = [];
  rows.forEach((r, i) => {
    const loss = num(r.loss);
    if (loss === null) return;
    const lr = Array.isArray(r.lr) ? num(r.lr[r.lr.length - 1]) : num(r.lr);
    out.push({ iter: num(r.iter) ?? i, epoch: num(r.epoch) ?? 0, phase: str(r.phase), loss, lr, mom: num(r.mom) });
  });
  return out;
}

/**
 * `interpretation.json` checked (a classes x classes confusion, in-range items), or null with a warning. `thumb`
 * decides which thumbnail paths a reader accepts (the dashboard: relative paths of plain names only).
 */
export function toInterpretation(
  o: Record<string, unknown> | null,
  warnings: string[],
  thumb: (v: unknown) => string | null = str,
): Interpretation | null {
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
    const prob = num(r.prob);
    items.push({
      index: num(r.index) ?? i,
      file: str(r.file) ?? `item ${i}`,
      thumb: thumb(r.thumb),
      actual,
      pred,
      loss: num(r.loss) ?? 0,
      prob: prob ?? 0,
      probActual: num(r.probActual) ?? (actual === pred ? prob : c === 2 && prob !== null ? 1 - prob : null),
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

/** The last part of a `/` or `\` path. */
function baseName(p: string): string {
  const parts = p.replace(/[\\/]+$/, '').split(/[\\/]/);
  return parts[parts.length - 1] ?? p;
}

/** The data set a config names: `dataset`, else the base name of `dataDir` (or the older `data` / `path`). */
export function datasetName(config: Record<string, unknown>): string | null {
  const direct = str(config.dataset);
  if (direct) return direct;
  const dir = str(config.dataDir) ?? str(config.data) ?? str(config.path);
  return dir ? baseName(dir) : null;
}

/** The classes a config (or an interpretation) lists, strings only. */
export function configClasses(config: Record<string, unknown>): string[] {
  return Array.isArray(config.classes) ? config.classes.filter((c): c is string => typeof c === 'string') : [];
}

/** Epochs planned in all (frozen + unfrozen), or null when the config does not say. */
export function plannedEpochs(config: Record<string, unknown>): number | null {
  const n = (num(config.epochs) ?? 0) + (num(config.unfreezeEpochs) ?? num(config.unfreeze_epochs) ?? 0);
  return n > 0 ? n : null;
}

/** The ISO date a run started: the config's `createdAt`/`startedAt`, status.json's `startedAt`, else `fallbackMs`. */
export function runDate(config: Record<string, unknown>, statusJson: Record<string, unknown> | null, fallbackMs: number): string {
  return str(config.createdAt) ?? str(config.startedAt) ?? str(statusJson?.startedAt) ?? new Date(fallbackMs).toISOString();
}

/** The best (highest) validation accuracy over the epochs, or null. */
export function bestAccuracy(metrics: readonly EpochMetrics[]): number | null {
  let best: number | null = null;
  for (const m of metrics) if (m.accuracy !== null && (best === null || m.accuracy > best)) best = m.accuracy;
  return best;
}

/** A run's status for readers: status.json's, `unknown` when nothing says. */
export type ReadStatus = RunStatus | 'unknown';

/** A run whose files have not changed for this long, with no live writer to ask, is considered stopped. */
export const STALE_MS = 10 * 60 * 1000;

/** What {@link decideStatus} needs to know beyond status.json. */
export interface StatusEvidence {
  /** Whether `model/` holds files (a finished export). */
  hasModel: boolean;
  /** The newest mtime among the run's files. */
  lastWriteMs: number;
  now: number;
  /** This machine's name (a pid is asked only on the machine that wrote it). */
  host: string;
  /** Whether a process exists here (null: cannot tell). */
  alive(pid: number): boolean | null;
}

/**
 * Where a run stands. A `running` run is asked by its pid when its status was written on this machine (another
 * `host`, or no pid, falls back to freshness): a dead pid, or no write for {@link STALE_MS}, reads as
 * `interrupted`. Without status.json: a model means finished, fresh files running, else unknown.
 */
export function decideStatus(
  statusJson: Record<string, unknown> | null,
  e: StatusEvidence,
): { status: ReadStatus; error: string | null } {
  const s = str(statusJson?.status);
  const error = str(statusJson?.error);
  if (s === 'finished' || s === 'failed' || s === 'interrupted') return { status: s, error };
  if (s === 'running') {
    const host = str(statusJson?.host) ?? str(statusJson?.hostname);
    const pid = num(statusJson?.pid);
    const alive = pid !== null && pid > 0 && (host === null || host === e.host) ? e.alive(pid) : null;
    if (alive === false)
      return { status: 'interrupted', error: error ?? `the training process (pid ${pid}) is gone without finishing the run` };
    if (alive === null && e.now - e.lastWriteMs > STALE_MS) {
      return {
        status: 'interrupted',
        error: error ?? 'no update for 10 minutes: the training process is gone without finishing the run',
      };
    }
    return { status: 'running', error: null };
  }
  if (e.hasModel) return { status: 'finished', error: null };
  if (e.now - e.lastWriteMs < STALE_MS) return { status: 'running', error: null };
  return { status: 'unknown', error: null };
}
