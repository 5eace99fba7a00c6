/**
 * The job format of fastts's work queue (BullMQ on Redis): queue and job names, the data each job carries, the
 * progress it reports and how job ids and run folders are named. Shared by the CLI (`fastts worker`,
 * `fastts submit`) and the dashboard's Queue page, which enqueues the same training jobs. No Redis client here:
 * only the format.
 *
 * Every path in a job is absolute and must mean the same folder on every worker (a shared file system). A training
 * job's run folder is fixed when it is submitted (`<runs>/<job id>`), so that a retried job — after its worker died —
 * resumes the same run from its last checkpoint.
 */

/** The BullMQ queue every fastts job goes to. */
export const QUEUE_NAME = 'fastts';

/** The names of fastts's jobs. */
export const JOB_NAMES = {
  /** A training run (`fastts train`). */
  train: 'train',
  /** One shard of a batch prediction: classifies its images, writes its own CSV. */
  predictShard: 'predict-shard',
  /** The parent of a prediction flow: merges its shards' CSVs into one `predictions.csv`. */
  predictMerge: 'predict-merge',
} as const;

/** The recipe of a training job: `fastts train`'s options (the ones a sweep may vary, and the rest). */
export interface TrainJobOptions {
  arch: string;
  size: number;
  epochs: number;
  unfreezeEpochs: number;
  /** `--lr` as typed (`3e-3`, `1e-5:3e-4`, `:3e-3`); absent for fast.ai's default. */
  lr?: string;
  /** `--unfreeze-lr` as typed. */
  unfreezeLr?: string;
  seed?: number;
  bs?: number;
  validPct?: number;
  train?: string;
  valid?: string;
  test?: string;
  pretrained?: boolean;
  augment?: boolean;
  rows?: number;
  topLosses?: number;
}

/** The keys a sweep may give several values for (`--arch a,b --seed 1,2`). */
export const SWEEP_KEYS = ['arch', 'size', 'lr', 'epochs', 'unfreezeEpochs', 'seed'] as const;

/** One of {@link SWEEP_KEYS}. */
export type SweepKey = (typeof SWEEP_KEYS)[number];

/** Data of a `train` job. */
export interface TrainJobData {
  /** The data folder (absolute, as every worker sees it). */
  dataDir: string;
  /** The run folder the job writes (absolute; fixed at submission so that a retry resumes it). */
  runDir: string;
  options: TrainJobOptions;
  /** The sweep this job belongs to, when submitted as one. */
  sweepId?: string;
  submittedAt: string;
}

/** Data of a `predict-shard` job. */
export interface PredictShardData {
  /** The run folder (or exported model) that classifies. */
  model: string;
  /** The folder the images were listed from; the CSV names each file relative to it. */
  imagesDir: string;
  /** The shard's images (absolute paths). */
  files: string[];
  /** Index of the shard, from 0. */
  shard: number;
  /** The CSV this shard writes (atomically; a retry overwrites it). */
  shardFile: string;
}

/** Data of a `predict-merge` job (the parent of a prediction flow). */
export interface PredictMergeData {
  model: string;
  imagesDir: string;
  /** The shards' CSVs, in shard order. */
  shardFiles: string[];
  /** The merged CSV to write. */
  out: string;
  /** Images over all shards. */
  images: number;
}

/** What a `train` job reports as its progress. */
export interface TrainJobProgress {
  runDir: string;
  /** Training batches done, of `totalIters`. */
  iters: number;
  totalIters: number;
  /** Epochs done, of `totalEpochs`. */
  epochs: number;
  totalEpochs: number;
  /** 0..100. */
  percent: number;
  accuracy?: number;
  validLoss?: number;
  /** Where this attempt resumed from, when it continued a run another worker (or attempt) started. */
  resumedFrom?: { phase: string; epoch: number };
}

/** What a `predict-shard` job reports as its progress. */
export interface ShardJobProgress {
  done: number;
  total: number;
  percent: number;
}

/**
 * Every combination of the values of a sweep, the first key varying slowest (`{arch: [a, b], seed: [1, 2]}` gives
 * a1, a2, b1, b2). Keys with one value stay fixed.
 */
export function sweepCombinations<T extends Record<string, readonly unknown[]>>(
  values: T,
): Array<{ [K in keyof T]: T[K][number] }> {
  let combos: Array<Record<string, unknown>> = [{}];
  for (const [key, list] of Object.entries(values)) {
    const next: Array<Record<string, unknown>> = [];
    for (const c of combos) for (const v of list) next.push({ ...c, [key]: v });
    combos = next;
  }
  return combos as Array<{ [K in keyof T]: T[K][number] }>;
}

/** A new id for a sweep or a single job: `<prefix>-YYYYMMDD-HHMMSS-<4 hex>` (sortable, a plain file name). */
export function newJobGroupId(
  prefix: 'sweep' | 'train' | 'predict',
  date: Date = new Date(),
  random: () => number = Math.random,
): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const ts = `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
  const hex = Math.floor(random() * 0x10000)
    .toString(16)
    .padStart(4, '0');
  return `${prefix}-${ts}-${hex}`;
}

/**
 * A Redis URL with its password replaced by `***`, for logs and messages: `redis://:secret@h:6379` gives
 * `redis://:***@h:6379`, `redis://user:secret@h` gives `redis://user:***@h`, and a user part without a colon (which
 * some clients take as the password) is hidden whole. Text that is not a URL with credentials comes back unchanged.
 */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return `${scheme}${colon >= 0 ? `${userinfo.slice(0, colon)}:***` : '***'}@`;
  });
}
