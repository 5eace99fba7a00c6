/**
 * The dashboard's view of the fastts work queue (BullMQ on the Redis of `FASTTS_REDIS_URL`, set by
 * `fastts dashboard --redis` / `start.mjs --redis`): the jobs by state with their progress and runs, and the
 * submission of a training job for a data set folder under the data root (`FASTTS_DATA_ROOT`, `--data-root`).
 * The job format is `@fastts/core/runs`'s, the one `fastts submit train` writes; the URL's password never leaves
 * the server (pages show it redacted).
 */
import { join, relative, sep } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { JOB_NAMES, newJobGroupId, QUEUE_NAME, redactRedisUrl, type TrainJobData, type TrainJobOptions } from '@fastts/core/runs';
import { runsDir } from './config';
import { DashboardError } from './errors';
import { listCachedArchs } from './files';
import { assertPlainName, realDir, resolveInside } from './safePath';

/** The Redis URL the dashboard was started with, or null (no Queue page). */
export function redisUrl(): string | null {
  return process.env.FASTTS_REDIS_URL || null;
}

/** The Redis URL as pages may show it (password redacted). */
export function redisShown(): string | null {
  const url = redisUrl();
  return url ? redactRedisUrl(url) : null;
}

/** The folder whose sub-folders can be submitted as data sets, or null. */
export function dataRoot(): string | null {
  return process.env.FASTTS_DATA_ROOT || null;
}

const KEY = Symbol.for('fastts.dashboard.queue');
const g = globalThis as { [KEY]?: { url: string; queue: Queue } };

/** The BullMQ queue (one per server process, shared across route bundles). */
function queue(): Queue {
  const url = redisUrl();
  if (!url) throw new DashboardError('the dashboard has no queue: start it with --redis <url> (or FASTTS_REDIS_URL)', 404);
  if (g[KEY]?.url !== url) {
    // Fail fast while Redis is down (no offline queue); reconnect in the background.
    const connection = new Redis(url, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: (n) => Math.min(n * 500, 5000),
    });
    connection.on('error', () => undefined); // shown on the page as "unreachable"
    g[KEY] = { url, queue: new Queue(QUEUE_NAME, { connection }) };
  }
  return g[KEY].queue;
}

/** Rejects after `ms` (Redis down must not hang a page). */
function timeout<T>(p: Promise<T>, ms = 3000): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, fail) => setTimeout(() => fail(new DashboardError('Redis did not answer in time', 503)), ms)),
  ]);
}

/** The job states the Queue page shows, in its order. */
export const JOB_STATES = ['active', 'waiting', 'prioritized', 'delayed', 'waiting-children', 'failed', 'completed'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** One job as the Queue page shows it. */
export interface JobRow {
  id: string;
  name: string;
  state: JobState;
  /** 0..100, when the job reports it. */
  percent: number | null;
  /** Progress in words (`epoch 1/2, batch 8/17`, `12/40 images`). */
  progress: string | null;
  /** The run (an id of the runs list) a training job writes, when it lies in the runs folder. */
  runId: string | null;
  /** Where it writes, when not a run of the list (a prediction's CSV). */
  output: string | null;
  sweepId: string | null;
  attempts: number;
  failedReason: string | null;
  createdAt: string;
}

/** A run folder as an id of the runs list, when it lies directly in the runs folder. */
function runIdOf(dir: unknown): string | null {
  if (typeof dir !== 'string') return null;
  const rel = relative(runsDir(), dir);
  return rel && !rel.startsWith('..') && !rel.includes(sep) ? rel : null;
}

function progressOf(p: unknown): { percent: number | null; text: string | null } {
  if (!p || typeof p !== 'object') return { percent: typeof p === 'number' ? p : null, text: null };
  const o = p as Record<string, unknown>;
  const percent = typeof o.percent === 'number' ? o.percent : null;
  if (typeof o.iters === 'number') {
    const acc = typeof o.accuracy === 'number' ? `, accuracy ${(o.accuracy * 100).toFixed(1)}%` : '';
    return { percent, text: `epoch ${o.epochs}/${o.totalEpochs}, batch ${o.iters}/${o.totalIters || '?'}${acc}` };
  }
  if (typeof o.done === 'number') return { percent, text: `${o.done}/${o.total} images` };
  return { percent, text: null };
}

/** What the Queue page shows: job counts by state and the most recent jobs of each (or why it cannot). */
export async function listJobs(perState = 50): Promise<{ counts: Record<string, number>; jobs: JobRow[] }> {
  const q = queue();
  const counts = await timeout(q.getJobCounts(...JOB_STATES));
  // The states are read one after another, so a job can move on in between (active, then completed by the time
  // `completed` is read): keyed by id, the later reading (a later state in JOB_STATES' order) wins.
  const jobs = new Map<string, JobRow>();
  for (const state of JOB_STATES) {
    const list = await timeout(q.getJobs([state], 0, perState - 1, false));
    for (const j of list) {
      if (!j?.id) continue;
      const data = (j.data ?? {}) as Record<string, unknown>;
      const p = progressOf(j.progress);
      jobs.delete(j.id);
      jobs.set(j.id, {
        id: j.id,
        name: j.name,
        state,
        percent: state === 'completed' ? 100 : p.percent,
        progress: p.text,
        runId: runIdOf(data.runDir),
        output: typeof data.out === 'string' ? data.out : null,
        sweepId: typeof data.sweepId === 'string' ? data.sweepId : null,
        attempts: j.attemptsMade,
        failedReason: j.failedReason || null,
        createdAt: new Date(j.timestamp).toISOString(),
      });
    }
  }
  return { counts, jobs: [...jobs.values()] };
}

/** The data sets the form offers: the plain-named folders of the data root. */
export async function listDataSets(): Promise<string[]> {
  const root = dataRoot();
  if (!root) return [];
  const { readdir } = await import('node:fs/promises');
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && /^[A-Za-z0-9_][A-Za-z0-9._+=@,-]*$/.test(e.name) && !e.name.includes('..'))
    .map((e) => e.name)
    .sort();
}

/** An integer form field in [min, max], or `fallback` when empty. */
function intField(form: URLSearchParams, name: string, min: number, max: number, fallback?: number): number | undefined {
  const raw = (form.get(name) ?? '').trim();
  if (raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new DashboardError(`${name}: give a whole number from ${min} to ${max}`, 400);
  return Number(raw);
}

/**
 * Enqueues a training job from the Queue page's form (`dataset`, `arch`, `size`, `epochs`, `unfreezeEpochs`,
 * `bs`, `lr`, `seed`): the data set must be a plain name of a folder inside the data root (symlinks out of it are
 * "not found"), the architecture one of the weight cache's. The run goes to `<runs>/<job id>`.
 */
export async function submitTrainJob(form: URLSearchParams): Promise<{ id: string; runId: string }> {
  const root = dataRoot();
  if (!root)
    throw new DashboardError('the dashboard has no data root: start it with --data-root <dir> (or FASTTS_DATA_ROOT)', 404);
  const name = assertPlainName('data set', form.get('dataset') ?? '');
  const dataDir = await resolveInside(root, [name], { kind: 'data set', expect: 'directory' });
  const arch = assertPlainName('architecture', form.get('arch') ?? '');
  if (!(await listCachedArchs()).includes(arch)) throw new DashboardError(`architecture ${arch} is not in the weight cache`, 400);
  const lr = (form.get('lr') ?? '').trim();
  if (lr !== '' && !/^(\d+(\.\d*)?(e-?\d+)?)?(:\d+(\.\d*)?(e-?\d+)?)?$/i.test(lr))
    throw new DashboardError('lr: give a number such as 3e-3, or lo:hi', 400);
  const seed = intField(form, 'seed', 0, 2 ** 31);
  const options: TrainJobOptions = {
    arch,
    size: intField(form, 'size', 16, 1024, 224)!,
    epochs: intField(form, 'epochs', 0, 1000, 1)!,
    unfreezeEpochs: intField(form, 'unfreezeEpochs', 0, 1000, 0)!,
    bs: intField(form, 'bs', 1, 4096, 64)!,
    ...(lr ? { lr } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
  if (options.epochs + options.unfreezeEpochs === 0) throw new DashboardError('epochs: give 1 or more', 400);
  const runs = await realDir(runsDir());
  if (!runs) throw new DashboardError('the runs folder does not exist', 500);
  const id = newJobGroupId('train');
  const data: TrainJobData = {
    dataDir,
    runDir: join(/*turbopackIgnore: true*/ runs, id),
    options,
    submittedAt: new Date().toISOString(),
  };
  await timeout(
    queue().add(JOB_NAMES.train, data, {
      jobId: id,
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: { age: 7 * 24 * 3600 },
    }),
  );
  return { id, runId: id };
}
