/**
 * The run files' records, typed: tolerant converters from parsed JSON / JSON Lines / CSV into what the pages show
 * (RUN_FORMAT.md). Anything malformed is dropped or reported as a warning, never thrown.
 */
import { basename } from 'node:path';
import { num, obj, parseCsv, str } from './parse';
import { isPlainName } from './safePath';
import type { BatchRecord, EpochMetrics, InterpItem, Interpretation, TestPrediction } from './runTypes';
import type { FileText } from './runFiles';

/** `metrics.jsonl` rows as fast.ai epoch-table rows (rows without an epoch number are dropped). */
export function toMetrics(rows: Record<string, unknown>[]): EpochMetrics[] {
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
export function toBatches(rows: Record<string, unknown>[]): BatchRecord[] {
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
export function safeThumb(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  const parts = s.split('/');
  return parts.every(isPlainName) ? s : null;
}

/** `interpretation.json` checked (classes x classes confusion, in-range items, safe thumbs), or null with a warning. */
export function toInterpretation(o: Record<string, unknown> | null, warnings: string[]): Interpretation | null {
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

/** `test_predictions.csv` rows, with the thumbnail of each row when `thumbs` holds it. */
export function toTestPredictions(f: FileText | null, thumbs: Set<string>): TestPrediction[] {
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

/** The data set a config names: `dataset`, else the base name of `dataDir` / `data` / `path`. */
export function datasetName(config: Record<string, unknown>): string | null {
  const direct = str(config.dataset);
  if (direct) return direct;
  const dir = str(config.dataDir) ?? str(config.data) ?? str(config.path);
  return dir ? basename(dir.replace(/[\\/]+$/, '')) : null;
}


/** The classes a config lists (strings only). */
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

/** The weight file of a run's export among its `model/` files: the `.safetensors`, else a `.bin`. */
export function exportFile(modelFiles: readonly string[]): string | null {
  return modelFiles.find((f) => f.endsWith('.safetensors')) ?? modelFiles.find((f) => f.endsWith('.bin')) ?? null;
}
