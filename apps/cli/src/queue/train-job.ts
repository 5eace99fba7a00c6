/**
 * A `train` job on a worker: `fastts train` in a child process writing the job's run folder. A new job starts the
 * run; a job whose run folder already holds a checkpoint (its previous worker died, or stopped on SIGTERM)
 * continues it with `fastts train --resume <run> --take-over` — from the last epoch's checkpoint, not from scratch.
 * The child gets an IPC channel and dies with its worker (see `cli.ts`), so that a SIGKILLed worker leaves no
 * process writing to a run another worker resumes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job } from 'bullmq';
import { RUN_FILES, type TrainJobData, type TrainJobOptions, type TrainJobProgress } from '@fastts/core/runs';
import type { BackendOptions } from '../options.js';
import { readJson, runState, writeJson } from '../run-dir.js';

/** The file in a run folder that records the queue job behind it and each attempt at it. */
export const QUEUE_FILE = 'queue.json';

/** `queue.json` of a run trained by a queue worker. */
export interface QueueRecord {
  jobId: string;
  sweepId?: string;
  attempts: Array<{ host: string; pid: number; startedAt: string; resumedFrom?: { phase: string; epoch: number } }>;
}

/** How a training child ended. */
export interface TrainOutcome {
  /** The child's exit code (null when a signal killed it). */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `fastts train --json`'s result (or `{ error }`), when it printed one. */
  json: Record<string, unknown> | undefined;
  /** The last lines of its stderr. */
  stderrTail: string[];
  resumedFrom: { phase: string; epoch: number } | undefined;
}

/** The built CLI entry point the children run. */
export function cliEntry(): string {
  for (const rel of ['./cli.js', '../cli.js']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return process.argv[1] ?? 'fastts';
}

/** `fastts train`'s options for a job's recipe (data folder and run folder not included). */
export function trainJobArgs(o: TrainJobOptions): string[] {
  const a = [
    '--arch',
    o.arch,
    '--size',
    String(o.size),
    '--epochs',
    String(o.epochs),
    '--unfreeze-epochs',
    String(o.unfreezeEpochs),
  ];
  const opt = (flag: string, v: string | number | undefined) => {
    if (v !== undefined) a.push(flag, String(v));
  };
  opt('--lr', o.lr);
  opt('--unfreeze-lr', o.unfreezeLr);
  opt('--seed', o.seed);
  opt('--bs', o.bs);
  opt('--valid-pct', o.validPct);
  opt('--train', o.train);
  opt('--valid', o.valid);
  opt('--test', o.test);
  opt('--rows', o.rows);
  opt('--top-losses', o.topLosses);
  if (o.pretrained === false) a.push('--no-pretrained');
  if (o.augment === false) a.push('--no-augment');
  return a;
}

/** Removes what an earlier attempt left in a run folder that has no checkpoint to resume from. */
function clearRunDir(runDir: string): void {
  if (!existsSync(runDir)) return;
  for (const f of readdirSync(runDir)) if (f !== QUEUE_FILE) rmSync(join(runDir, f), { recursive: true, force: true });
}

/** Records this attempt in the run's `queue.json`. */
function recordAttempt(job: Job<TrainJobData>, resumedFrom: TrainOutcome['resumedFrom']): void {
  const path = join(job.data.runDir, QUEUE_FILE);
  const prev = existsSync(path) ? readJson<QueueRecord>(path, 'queue record') : undefined;
  const record: QueueRecord = {
    jobId: String(job.id),
    ...(job.data.sweepId ? { sweepId: job.data.sweepId } : {}),
    attempts: [
      ...(prev?.attempts ?? []),
      { host: hostname(), pid: process.pid, startedAt: new Date().toISOString(), ...(resumedFrom ? { resumedFrom } : {}) },
    ],
  };
  writeJson(path, record);
}

/** The command line of the child for this job: a new run, or the run resumed. */
export function planTrainJob(
  data: TrainJobData,
  backend: BackendOptions,
): { args: string[]; resumedFrom: TrainOutcome['resumedFrom']; finished: boolean } {
  const backendArgs = [
    '--backend',
    backend.backend,
    ...(backend.threads !== undefined ? ['--threads', String(backend.threads)] : []),
  ];
  const state = existsSync(join(data.runDir, RUN_FILES.status)) ? runState(data.runDir) : undefined;
  if (state?.status === 'finished' && existsSync(join(data.runDir, RUN_FILES.model)))
    return { args: [], resumedFrom: undefined, finished: true };
  if (state?.resume) {
    const { phase, epoch } = state.resume;
    return {
      args: ['train', '--resume', data.runDir, '--take-over', ...backendArgs, '--json'],
      resumedFrom: { phase, epoch },
      finished: false,
    };
  }
  return {
    args: ['train', data.dataDir, ...trainJobArgs(data.options), '--out', data.runDir, ...backendArgs, '--json'],
    resumedFrom: undefined,
    finished: false,
  };
}

/** Counts the complete lines of a file (0 when missing). */
function countLines(path: string): { n: number; last: string | undefined } {
  if (!existsSync(path)) return { n: 0, last: undefined };
  const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
  return { n: lines.length, last: lines.at(-1) };
}

/** The job's progress, read from its run folder. */
export function readTrainProgress(data: TrainJobData, resumedFrom: TrainOutcome['resumedFrom']): TrainJobProgress {
  const dir = data.runDir;
  let totalIters = 0;
  try {
    totalIters = (JSON.parse(readFileSync(join(dir, RUN_FILES.config), 'utf8')) as { totalIters?: number }).totalIters ?? 0;
  } catch {
    // not written yet
  }
  const iters = countLines(join(dir, RUN_FILES.batches)).n;
  const metrics = countLines(join(dir, RUN_FILES.metrics));
  const last = metrics.last ? (JSON.parse(metrics.last) as { accuracy?: number; valid_loss?: number }) : undefined;
  const totalEpochs = data.options.epochs + data.options.unfreezeEpochs;
  return {
    runDir: dir,
    iters,
    totalIters,
    epochs: metrics.n,
    totalEpochs,
    percent: totalIters > 0 ? Math.min(100, Math.round((100 * iters) / totalIters)) : 0,
    ...(last?.accuracy !== undefined ? { accuracy: last.accuracy } : {}),
    ...(last?.valid_loss !== undefined ? { validLoss: last.valid_loss } : {}),
    ...(resumedFrom ? { resumedFrom } : {}),
  };
}

/** What {@link runTrainChild} needs. */
export interface TrainChildOptions {
  backend: BackendOptions;
  /** Called with the child once it runs (the worker signals it on SIGTERM). */
  onSpawn?: (child: ChildProcess) => void;
  /** Debug lines (the child's stderr). */
  debug?: (line: string) => void;
  /** Progress polling period (ms). */
  pollMs?: number;
}

/** Runs the job's training in a child process, reporting progress, and says how it ended. */
export async function runTrainChild(job: Job<TrainJobData>, o: TrainChildOptions): Promise<TrainOutcome> {
  const plan = planTrainJob(job.data, o.backend);
  if (plan.finished) return { code: 0, signal: null, json: undefined, stderrTail: [], resumedFrom: undefined };
  if (!plan.resumedFrom) clearRunDir(job.data.runDir);
  const env: NodeJS.ProcessEnv = { ...process.env, FASTTS_WORKER_CHILD: '1' }; // it dies with this process (see cli.ts)
  delete env.FASTTS_REDIS_URL; // the child needs no credentials
  const child = spawn(process.execPath, [cliEntry(), ...plan.args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env });
  o.onSpawn?.(child);
  let stdout = '';
  const tail: string[] = [];
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    const parts = (partial + d).split(/\r?\n|\r/);
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      o.debug?.(line);
    }
  });
  let recorded = false;
  let lastSent = '';
  const poll = async () => {
    if (!recorded && existsSync(job.data.runDir)) {
      recorded = true;
      recordAttempt(job, plan.resumedFrom);
    }
    const p = readTrainProgress(job.data, plan.resumedFrom);
    const key = JSON.stringify(p);
    if (key !== lastSent) {
      lastSent = key;
      await job.updateProgress(p as unknown as object).catch(() => undefined);
    }
  };
  const timer = setInterval(() => void poll(), o.pollMs ?? 1000);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (c, s) => resolve({ code: c, signal: s })),
  );
  clearInterval(timer);
  await poll();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { code, signal, json, stderrTail: tail, resumedFrom: plan.resumedFrom };
}
