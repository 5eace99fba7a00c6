/**
 * `fastts submit train|predict`: puts jobs on the queue for `fastts worker`s. Every path is made absolute here:
 * workers on other machines must see the same folders (a shared file system). `submit train` with lists of values
 * (`--arch a,b --seed 1,2`) submits a sweep, one job per combination; `submit predict` submits a flow of shards.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FlowProducer, Queue, type JobsOptions } from 'bullmq';
import {
  JOB_NAMES,
  newJobGroupId,
  QUEUE_NAME,
  sweepCombinations,
  type PredictMergeData,
  type PredictShardData,
  type TrainJobData,
  type TrainJobOptions,
} from '@fastts/core/runs';
import { formatLr } from '../args.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { findExport } from '../model-file.js';
import type { SubmitPredictOptions, SubmitTrainOptions } from '../options.js';
import { listImages, requireDir } from '../paths.js';
import { followJobs } from './follow.js';
import { checkRedisUrl, connectRedis, probeRedis, redactRedisUrl } from './redis.js';

/** Retry policy of submitted jobs: `attempts` tries, 5 s, 10 s, 20 s... apart. */
function retryOptions(attempts: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: 5000 },
    removeOnComplete: { age: 7 * 24 * 3600 },
    removeOnFail: { age: 30 * 24 * 3600 },
  };
}

/** The jobs of a `submit train` command line: one per combination of the swept values. */
export function trainJobs(
  dataDir: string,
  o: SubmitTrainOptions,
  cwd: string,
  groupId: string,
): Array<{ id: string; data: TrainJobData }> {
  const combos = sweepCombinations({
    arch: o.arch,
    size: o.size,
    lr: o.lr ?? [undefined],
    epochs: o.epochs,
    unfreezeEpochs: o.unfreezeEpochs,
    seed: o.seed ?? [undefined],
  });
  if (combos.length > 1 && o.out !== undefined)
    throw new UsageError('--out names one run folder: a sweep writes one per job', {
      hint: 'use --runs <dir> (each job writes <dir>/<job id>)',
    });
  if (combos.some((c) => c.epochs === 0 && c.unfreezeEpochs === 0)) {
    throw new UsageError('--epochs and --unfreeze-epochs are both 0: there is nothing to train', {
      hint: 'give --epochs 1 or more',
    });
  }
  const runs = resolve(cwd, o.runs);
  const submittedAt = new Date().toISOString();
  return combos.map((c, i) => {
    const id = combos.length > 1 ? `${groupId}-${i + 1}` : groupId;
    const options: TrainJobOptions = {
      arch: c.arch,
      size: c.size,
      epochs: c.epochs,
      unfreezeEpochs: c.unfreezeEpochs,
      ...(c.lr !== undefined ? { lr: c.lr } : {}),
      unfreezeLr: formatLr(o.unfreezeLr),
      ...(c.seed !== undefined ? { seed: c.seed } : {}),
      bs: o.bs,
      ...(o.validPct !== undefined ? { validPct: o.validPct } : {}),
      train: o.train,
      valid: o.valid,
      test: o.test,
      pretrained: o.pretrained,
      augment: o.augment,
      rows: o.rows,
      topLosses: o.topLosses,
    };
    const runDir = o.out !== undefined ? resolve(cwd, o.out) : join(runs, id);
    return { id, data: { dataDir, runDir, options, ...(combos.length > 1 ? { sweepId: groupId } : {}), submittedAt } };
  });
}

/** Runs `fastts submit train`. */
export async function runSubmitTrain(dataArg: string, o: SubmitTrainOptions, ctx: CommandContext): Promise<void> {
  const { io, reporter } = ctx;
  const url = checkRedisUrl(o.redis);
  const dataDir = resolve(io.cwd, dataArg);
  if (!existsSync(dataDir))
    reporter.warn(`data folder '${dataArg}' does not exist on this machine: the workers must see it at ${dataDir}`);
  const sweep = [o.arch, o.size, o.lr ?? [], o.epochs, o.unfreezeEpochs, o.seed ?? []].some((l) => l.length > 1);
  const groupId = newJobGroupId(sweep ? 'sweep' : 'train');
  const jobs = trainJobs(dataDir, o, io.cwd, groupId);
  await probeRedis(url);
  const queue = new Queue(QUEUE_NAME, { connection: connectRedis(url) });
  try {
    await queue.addBulk(
      jobs.map((j) => ({
        name: JOB_NAMES.train,
        data: j.data,
        opts: { ...retryOptions(o.attempts), jobId: j.id, ...(o.priority ? { priority: o.priority } : {}) },
      })),
    );
    reporter.log(
      `submitted ${jobs.length} training job${jobs.length === 1 ? '' : 's'} to ${redactRedisUrl(url)}${sweep ? ` (sweep ${groupId})` : ''}`,
    );
    if (!reporter.json) {
      if (sweep) reporter.out(`sweep ${groupId}`);
      for (const j of jobs) {
        const o2 = j.data.options;
        reporter.out(
          `${j.id}  ${j.data.runDir}  arch=${o2.arch} size=${o2.size} epochs=${o2.epochs}+${o2.unfreezeEpochs}${o2.lr ? ` lr=${o2.lr}` : ''}${o2.seed !== undefined ? ` seed=${o2.seed}` : ''}`,
        );
      }
    }
    const result = {
      ...(sweep ? { sweepId: groupId } : {}),
      jobs: jobs.map((j) => ({ id: j.id, runDir: j.data.runDir, options: j.data.options })),
    };
    if (o.wait) {
      const outcome = await followJobs(
        url,
        queue,
        jobs.map((j) => j.id),
        ctx,
      );
      reporter.result({ ...result, results: outcome });
    } else reporter.result(result);
  } finally {
    await queue.close();
  }
}

/** Runs `fastts submit predict`. */
export async function runSubmitPredict(
  model: string,
  imagesArg: string,
  o: SubmitPredictOptions,
  ctx: CommandContext,
): Promise<void> {
  const { io, reporter } = ctx;
  const url = checkRedisUrl(o.redis);
  const modelFile = findExport(model, io.cwd); // the model must exist now; the workers load it
  const modelPath = resolve(io.cwd, model);
  const imagesDir = requireDir(imagesArg, io.cwd, 'images folder', 'give a folder of images (searched recursively)');
  const files = listImages(imagesDir);
  if (files.length === 0) throw new UsageError(`folder '${imagesArg}' holds no images`, { hint: 'give a folder holding images' });
  const flowId = newJobGroupId('predict');
  const outDir =
    o.out !== undefined
      ? resolve(io.cwd, o.out)
      : join(modelPath === modelFile ? resolve(modelFile, '..') : modelPath, 'predictions', flowId);
  const shards: PredictShardData[] = [];
  for (let i = 0; i * o.shardSize < files.length; i++) {
    const shardFile = join(outDir, 'shards', `shard-${String(i).padStart(5, '0')}.csv`);
    shards.push({ model: modelPath, imagesDir, files: files.slice(i * o.shardSize, (i + 1) * o.shardSize), shard: i, shardFile });
  }
  const merge: PredictMergeData = {
    model: modelPath,
    imagesDir,
    shardFiles: shards.map((s) => s.shardFile),
    out: join(outDir, 'predictions.csv'),
    images: files.length,
  };
  await probeRedis(url);
  const flows = new FlowProducer({ connection: connectRedis(url) });
  const queue = new Queue(QUEUE_NAME, { connection: connectRedis(url) });
  try {
    await flows.add({
      name: JOB_NAMES.predictMerge,
      queueName: QUEUE_NAME,
      data: merge,
      opts: { ...retryOptions(o.attempts), jobId: flowId },
      children: shards.map((s) => ({
        name: JOB_NAMES.predictShard,
        queueName: QUEUE_NAME,
        data: s,
        opts: { ...retryOptions(o.attempts), jobId: `${flowId}-shard-${s.shard}`, failParentOnFailure: true },
      })),
    });
    reporter.log(
      `submitted a prediction flow of ${shards.length} shard${shards.length === 1 ? '' : 's'} (${files.length} images) to ${redactRedisUrl(url)}`,
    );
    if (!reporter.json) {
      reporter.out(`${flowId}  ${merge.out}`);
    }
    const result = { flowId, shards: shards.length, images: files.length, out: merge.out };
    if (o.wait) {
      const outcome = await followJobs(url, queue, [flowId], ctx, shards.length);
      reporter.result({ ...result, results: outcome });
    } else reporter.result(result);
  } finally {
    await flows.close();
    await queue.close();
  }
}
