/**
 * `--wait` of `fastts submit`: follows submitted jobs until each has completed or failed, printing their progress
 * on stderr (epochs and batches of a training job, shards done of a prediction flow). Ctrl-C stops following; the
 * jobs go on.
 */
import { QueueEvents, type Queue } from 'bullmq';
import { QUEUE_NAME, type ShardJobProgress, type TrainJobProgress } from '@fastts/core/runs';
import type { CommandContext } from '../context.js';
import { CliError, InterruptedError } from '../errors.js';
import { connectRedis } from './redis.js';

/** How a followed job ended. */
export interface FollowedJob {
  id: string;
  state: 'completed' | 'failed';
  result?: unknown;
  failedReason?: string;
}

/** One line for a job's progress. */
export function progressLine(id: string, p: unknown): string | undefined {
  if (!p || typeof p !== 'object') return undefined;
  const t = p as Partial<TrainJobProgress>;
  if (typeof t.iters === 'number') {
    const acc = t.accuracy !== undefined ? `, accuracy ${t.accuracy.toFixed(4)}` : '';
    return `${id}: epoch ${t.epochs}/${t.totalEpochs}, batch ${t.iters}/${t.totalIters || '?'} (${t.percent}%)${acc}`;
  }
  const s = p as Partial<ShardJobProgress>;
  if (typeof s.done === 'number') return `${id}: ${s.done}/${s.total} images`;
  return undefined;
}

/**
 * Waits for the jobs `ids` to end and returns how each did; throws a {@link CliError} naming the first failure when
 * any failed. `shards` (for a prediction flow's parent) counts the shard jobs that complete on the way.
 */
export async function followJobs(
  url: string,
  queue: Queue,
  ids: readonly string[],
  ctx: CommandContext,
  shards = 0,
): Promise<FollowedJob[]> {
  const { reporter, interrupts } = ctx;
  const events = new QueueEvents(QUEUE_NAME, { connection: connectRedis(url) });
  const pending = new Set(ids);
  const done: FollowedJob[] = [];
  let shardsDone = 0;
  let lastLine = 0;
  try {
    await events.waitUntilReady();
    const finished = new Promise<void>((resolve) => {
      const settle = (job: FollowedJob) => {
        if (!pending.delete(job.id)) return;
        done.push(job);
        reporter.log(job.state === 'completed' ? `${job.id}: done` : `${job.id}: failed: ${job.failedReason}`);
        if (pending.size === 0) resolve();
      };
      events.on('progress', ({ jobId, data }) => {
        if (!pending.has(jobId) || Date.now() - lastLine < 2000) return;
        const line = progressLine(jobId, data);
        if (line) {
          lastLine = Date.now();
          reporter.log(line);
        }
      });
      events.on('completed', ({ jobId, returnvalue }) => {
        if (shards && jobId.includes('-shard-') && ids.some((id) => jobId.startsWith(`${id}-shard-`))) {
          shardsDone++;
          reporter.log(`shards done: ${shardsDone}/${shards}`);
        }
        settle({ id: jobId, state: 'completed', result: returnvalue });
      });
      events.on('failed', ({ jobId, failedReason }) => {
        void queue.getJob(jobId).then(async (job) => {
          // A failed attempt that will be retried is not the end.
          if (job && (await job.getState()) !== 'failed')
            return reporter.log(`${jobId}: attempt failed (${failedReason}); it will be retried`);
          settle({ id: jobId, state: 'failed', failedReason });
        });
      });
      // Jobs that ended before we listened.
      void Promise.all(
        ids.map(async (id) => {
          const job = await queue.getJob(id);
          const state = job ? await job.getState() : 'unknown';
          if (state === 'completed') settle({ id, state: 'completed', result: job!.returnvalue });
          else if (state === 'failed') settle({ id, state: 'failed', failedReason: job!.failedReason });
        }),
      );
    });
    const stopped = new Promise<never>((_, reject) => {
      const stop = () => reject(new InterruptedError(`stopped following the jobs (${interrupts.by}); they go on`));
      if (interrupts.signal.aborted) stop();
      interrupts.signal.addEventListener('abort', stop, { once: true });
    });
    await Promise.race([finished, stopped]);
  } finally {
    await events.close();
  }
  const failed = done.filter((j) => j.state === 'failed');
  if (failed.length) {
    throw new CliError(
      `${failed.length} of ${ids.length} job${ids.length === 1 ? '' : 's'} failed: ${failed[0]!.id}: ${failed[0]!.failedReason}`,
    );
  }
  return ids.map((id) => done.find((j) => j.id === id)!);
}
