/**
 * `fastts worker --redis <url>`: takes fastts jobs from the queue until stopped. Training jobs run `fastts train` in
 * a child process (resuming their run when an earlier attempt left a checkpoint); prediction shards run in this
 * process. SIGTERM (or Ctrl-C) stops taking jobs, lets prediction shards finish, stops training children at the end
 * of their batch (they write a checkpoint) and puts their jobs back in the queue, then exits 0. A worker that dies
 * without a word (SIGKILL, a machine gone) loses its job's lock: after `--lock-duration` another worker's stalled
 * check puts the job back and it is resumed there.
 */
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { JOB_NAMES, QUEUE_NAME, type PredictMergeData, type PredictShardData, type TrainJobData } from '@fastts/core/runs';
import { setupCliBackend, type BackendInfo } from '../backend.js';
import type { CommandContext } from '../context.js';
import { ExitCode, oneLine, toCliError } from '../errors.js';
import type { WorkerOptions } from '../options.js';
import { ModelCache, runMergeJob, runShardJob } from './predict-job.js';
import { checkRedisUrl, connectRedis, probeRedis, redactRedisUrl, scrubSecret } from './redis.js';
import { runTrainChild, type TrainOutcome } from './train-job.js';

/** The reason a failed training child gives: its `--json` error line, else its last stderr line. */
export function failureReason(o: TrainOutcome): string {
  const err = (o.json?.error as { message?: string } | undefined)?.message;
  if (err) return err;
  const line = [...o.stderrTail].reverse().find((l) => /^(error|interrupted):/.test(l));
  if (line) return line.replace(/^(error|interrupted):\s*/, '');
  return o.signal ? `the training process was killed by ${o.signal}` : `the training process exited with code ${o.code}`;
}

/**
 * Runs an in-process job: its failure reason is the CLI's one line, and a usage error (a model that does not
 * exist, say) fails the job at once instead of being retried.
 */
async function oneLineErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const cli = toCliError(err);
    if (cli.exitCode === ExitCode.usage) throw new UnrecoverableError(cli.line);
    throw new Error(cli.line, { cause: err });
  }
}

/** Shared state of one worker process. */
interface WorkerState {
  stopping: boolean;
  children: Set<ChildProcess>;
  models: ModelCache;
  backend: Promise<BackendInfo> | undefined;
}

/** Runs `fastts worker`. */
export async function runWorker(options: WorkerOptions, ctx: CommandContext): Promise<void> {
  const { reporter, interrupts } = ctx;
  const url = checkRedisUrl(options.redis);
  await probeRedis(url);
  const where = redactRedisUrl(url);
  const log = (line: string) => reporter.log(`[${new Date().toISOString().slice(11, 19)}] ${scrubSecret(line, url)}`);
  const state: WorkerState = { stopping: false, children: new Set(), models: new ModelCache(), backend: undefined };
  const backendOptions = { backend: options.backend, ...(options.threads !== undefined ? { threads: options.threads } : {}) };

  const processor = async (job: Job, token?: string): Promise<unknown> => {
    log(`job ${job.id} (${job.name}): started${job.attemptsMade > 0 ? ` (attempt ${job.attemptsMade + 1})` : ''}`);
    switch (job.name) {
      case JOB_NAMES.train:
        return trainJob(job as Job<TrainJobData>, token);
      case JOB_NAMES.predictShard:
        return oneLineErrors(async () => {
          // The backend is set up once, on the first shard: a worker that only trains leaves it to its children.
          state.backend ??= setupCliBackend(backendOptions, reporter).then((b) => {
            log(`backend: ${b.description}`);
            return b;
          });
          await state.backend;
          return runShardJob(job as Job<PredictShardData>, state.models);
        });
      case JOB_NAMES.predictMerge:
        return oneLineErrors(async () => runMergeJob(job as Job<PredictMergeData>));
      default:
        throw new UnrecoverableError(`unknown job name '${job.name}' (this worker runs ${Object.values(JOB_NAMES).join(', ')})`);
    }
  };

  const trainJob = async (job: Job<TrainJobData>, token?: string): Promise<unknown> => {
    const outcome = await runTrainChild(job, {
      backend: backendOptions,
      onSpawn: (child) => {
        state.children.add(child);
        child.on('close', () => state.children.delete(child));
        if (state.stopping) child.kill('SIGTERM');
      },
      debug: (line) => reporter.debug(`job ${job.id}: ${line}`),
    });
    if (outcome.resumedFrom)
      log(
        `job ${job.id}: resumed ${job.data.runDir} from its checkpoint after ${outcome.resumedFrom.phase} epoch ${outcome.resumedFrom.epoch}`,
      );
    if (outcome.code === 0) {
      const valid = outcome.json?.valid as { accuracy?: number; loss?: number } | undefined;
      return { runDir: job.data.runDir, valid, resumedFrom: outcome.resumedFrom ?? null };
    }
    const reason = oneLine(failureReason(outcome));
    if (state.stopping && (outcome.code === 130 || outcome.code === 143)) {
      // Stopped by our SIGTERM with a checkpoint: back to the queue, for any worker to resume (no attempt used).
      await job.moveToDelayed(Date.now(), token);
      log(`job ${job.id}: checkpointed and put back in the queue`);
      throw new DelayedError();
    }
    if (outcome.code === ExitCode.usage) throw new UnrecoverableError(reason); // retrying cannot help
    throw new Error(reason);
  };

  const worker = new Worker(QUEUE_NAME, processor, {
    connection: connectRedis(url),
    concurrency: options.concurrency,
    lockDuration: options.lockDuration,
    stalledInterval: options.stalledInterval,
    maxStalledCount: 2,
    autorun: false,
  });
  let lastError = '';
  let lastErrorAt = 0;
  worker.on('error', (err) => {
    const msg = scrubSecret(err.message, url);
    // Redis gone: one line per distinct error, then every 30 s while it lasts.
    if (msg !== lastError || Date.now() - lastErrorAt > 30_000) log(`redis ${where}: ${oneLine(msg)} (reconnecting)`);
    lastError = msg;
    lastErrorAt = Date.now();
  });
  worker.on('ready', () => {
    if (lastError) log(`redis ${where}: connected again`);
    lastError = '';
  });
  worker.on('completed', (job) => log(`job ${job.id} (${job.name}): done`));
  worker.on('failed', (job, err) => {
    if (err instanceof DelayedError || err.name === 'DelayedError') return;
    log(`job ${job?.id} (${job?.name}): failed: ${oneLine(err.message)}`);
  });

  log(
    `worker ${hostname()}:${process.pid} on ${where}, queue '${QUEUE_NAME}', concurrency ${options.concurrency}; waiting for jobs (Ctrl-C or SIGTERM to stop)`,
  );
  const running = worker.run();
  await new Promise<void>((resolve) => {
    if (interrupts.signal.aborted) resolve();
    interrupts.signal.addEventListener('abort', () => resolve(), { once: true });
    void running.then(() => resolve());
  });
  state.stopping = true;
  log(
    `stopping: ${state.children.size ? `checkpointing ${state.children.size} training job(s), ` : ''}finishing the current jobs...`,
  );
  for (const child of state.children) child.kill('SIGTERM');
  await worker.close();
  await state.models.dispose();
  log('stopped');
}
