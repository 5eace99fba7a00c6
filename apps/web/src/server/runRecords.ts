/**
 * The run files' records, typed: tolerant converters from parsed JSON / JSON Lines / CSV into what the pages show
 * (RUN_FORMAT.md). Anything malformed is dropped or reported as a warning, never thrown.
 */
import { parseCsv, str } from './parse';
import { toInterpretation as readInterpretation } from '@fastts/core/runs';
export { toMetrics, toBatches, datasetName, configClasses, plannedEpochs, runDate, bestAccuracy } from '@fastts/core/runs';
import { isPlainName } from './safePath';
import type { Interpretation, TestPrediction } from './runTypes';
import type { FileText } from './runFiles';

/** A thumbnail path from a run file is kept only when it is a relative path of plain names. */
export function safeThumb(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  const parts = s.split('/');
  return parts.every(isPlainName) ? s : null;
}

/** `interpretation.json` checked (the run format's reader), thumbnails kept only as relative paths of plain names. */
export function toInterpretation(o: Record<string, unknown> | null, warnings: string[]): Interpretation | null {
  return readInterpretation(o, warnings, safeThumb);
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

/** The weight file of a run's export among its `model/` files: the `.safetensors`, else a `.bin`. */
export function exportFile(modelFiles: readonly string[]): string | null {
  return modelFiles.find((f) => f.endsWith('.safetensors')) ?? modelFiles.find((f) => f.endsWith('.bin')) ?? null;
}
