/**
 * Batch prediction as a BullMQ flow: one `predict-shard` job per shard of images, each writing its own CSV
 * atomically (a retried shard overwrites its file: idempotent), and a `predict-merge` parent that concatenates the
 * shards' CSVs, in shard order, into one `predictions.csv` (written atomically) once every shard is done. Shards run
 * in the worker process, with the model loaded once per worker and kept while the next shard uses it too; the rows
 * are those of `fastts predict --csv` (file relative to the images folder, label, probability).
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { Job } from 'bullmq';
import { decodeImageFile, type InferenceLearner } from '@fastts/node-gpu';
import type { PredictMergeData, PredictShardData, ShardJobProgress } from '@fastts/core/runs';
import { decodeTargetOf } from '../commands/predict.js';
import { csvRow, parseCsv } from '../csv.js';
import { CliError, toCliError } from '../errors.js';
import { findExport, loadExport } from '../model-file.js';
import { writeFileAtomic } from '../run-dir.js';

/** The header of a predictions CSV (`fastts predict --csv` with `--top 1`). */
export const PREDICTIONS_HEADER = ['file', 'label', 'probability'];
/** The header of a shard's or merge's errors CSV: images that could not be classified. */
const ERROR_MARK = '#error';

/** One loaded model, reused by the shards that use it after one another. */
export class ModelCache {
  private current: { key: string; learn: Promise<InferenceLearner> } | undefined;

  /** The learner of `model` (a run folder or export), loaded once while it stays the same file. */
  async get(model: string): Promise<InferenceLearner> {
    const file = findExport(model, '/');
    const key = `${file}@${statSync(file).mtimeMs}`;
    if (this.current?.key !== key) {
      const old = this.current;
      this.current = { key, learn: loadExport(file) };
      if (old) void old.learn.then((l) => l.dispose()).catch(() => undefined);
    }
    return this.current.learn;
  }

  /** Frees the loaded model. */
  async dispose(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    if (c) await (await c.learn).dispose();
  }
}

/** Result of a shard job. */
export interface ShardResult {
  shard: number;
  images: number;
  errors: number;
}

/** Classifies a shard's images and writes its CSV atomically. */
export async function runShardJob(job: Job<PredictShardData>, models: ModelCache, signal?: AbortSignal): Promise<ShardResult> {
  const d = job.data;
  const learn = await models.get(d.model);
  const rows: string[] = [csvRow(PREDICTIONS_HEADER)];
  let errors = 0;
  let lastReport = 0;
  for (const [i, file] of d.files.entries()) {
    if (signal?.aborted) throw new CliError('stopped: the worker is shutting down');
    const name = relative(d.imagesDir, file);
    try {
      const pred = await learn.predict(await decodeImageFile(file, decodeTargetOf(learn)));
      rows.push(csvRow([name, pred.className, pred.probs[pred.index]!]));
    } catch (err) {
      errors++;
      rows.push(csvRow([name, ERROR_MARK, toCliError(err).line]));
    }
    if (Date.now() - lastReport > 1000 || i === d.files.length - 1) {
      lastReport = Date.now();
      const p: ShardJobProgress = { done: i + 1, total: d.files.length, percent: Math.round((100 * (i + 1)) / d.files.length) };
      await job.updateProgress(p as unknown as object).catch(() => undefined);
    }
  }
  mkdirSync(dirname(d.shardFile), { recursive: true });
  writeFileAtomic(d.shardFile, rows.join('\n') + '\n');
  return { shard: d.shard, images: d.files.length, errors };
}

/** Result of a merge job. */
export interface MergeResult {
  out: string;
  images: number;
  errors: number;
}

/**
 * Merges the shards' CSVs into `predictions.csv` (atomically) and the images that failed into `errors.csv` next to
 * it. Throws when a shard file is missing or the rows do not add up to the images submitted.
 */
export function runMergeJob(job: Job<PredictMergeData>): MergeResult {
  const d = job.data;
  const rows: string[] = [csvRow(PREDICTIONS_HEADER)];
  const failed: string[] = [csvRow(['file', 'error'])];
  for (const f of d.shardFiles) {
    if (!existsSync(f))
      throw new CliError(`shard file '${f}' is missing`, { hint: 'its shard job did not finish; retry the flow' });
    const [header, ...body] = parseCsv(readFileSync(f, 'utf8'));
    if (header?.join(',') !== PREDICTIONS_HEADER.join(',')) throw new CliError(`shard file '${f}' has an unexpected header`);
    for (const r of body) {
      if (r[1] === ERROR_MARK) failed.push(csvRow([r[0]!, r[2] ?? '']));
      else rows.push(csvRow(r));
    }
  }
  const counted = rows.length - 1 + failed.length - 1;
  if (counted !== d.images) throw new CliError(`the shards hold ${counted} images, ${d.images} were submitted`);
  mkdirSync(dirname(d.out), { recursive: true });
  writeFileAtomic(d.out, rows.join('\n') + '\n');
  if (failed.length > 1) writeFileAtomic(d.out.replace(/\.csv$/, '') + '.errors.csv', failed.join('\n') + '\n');
  return { out: d.out, images: rows.length - 1, errors: failed.length - 1 };
}
