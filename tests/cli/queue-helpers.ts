/**
 * Helpers of the work-queue tests: `fastts worker` processes on a test Redis (short lock and stalled-check times,
 * one thread each), and a BullMQ client to look at jobs.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Queue, type Job } from 'bullmq';
import { startCli } from './run-cli.js';

/** A running `fastts worker`. */
export interface TestWorker {
  proc: ChildProcess;
  /** Everything it printed so far. */
  log(): string;
  /** Resolves with its exit code (or signal) once it ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then wait for it to end. */
  stop(): Promise<void>;
}

/** Lock duration and stalled-check interval of test workers: a killed worker's job moves on within ~7 s. */
export const TEST_LOCK_MS = 5000;
export const TEST_STALLED_MS = 2000;

/**
 * Starts `fastts worker` on `redisUrl` (given as `--redis`, or as `FASTTS_REDIS_URL` when `env` sets it and
 * `redisUrl` is null) and waits until it says it is waiting for jobs.
 */
export async function startWorker(
  redisUrl: string | null,
  cwd: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<TestWorker> {
  const args = ['worker', ...(redisUrl ? ['--redis', redisUrl] : []), '--backend', 'wasm', '--threads', '1'];
  args.push('--lock-duration', String(TEST_LOCK_MS), '--stalled-interval', String(TEST_STALLED_MS), ...extra);
  const proc = startCli(args, { cwd, env });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    proc.on('close', (code, signal) => ok({ code, signal })),
  );
  await waitFor(() => out.includes('waiting for jobs') || proc.exitCode !== null, 60_000, 'the worker to start');
  if (proc.exitCode !== null) throw new Error(`worker exited at start (${proc.exitCode}):\n${out}`);
  return {
    proc,
    log: () => out,
    exited,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** Polls `cond` every 100 ms until it holds. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A BullMQ client of fastts's queue (close it after); `ca`: the certificate to trust for rediss://. */
export function openQueue(redisUrl: string, ca?: string): Queue {
  const u = new URL(redisUrl);
  const tls = u.protocol === 'rediss:' ? { tls: ca ? { ca: readFileSync(ca) } : {} } : {};
  const password = u.password ? { password: decodeURIComponent(u.password) } : {};
  return new Queue('fastts', {
    connection: { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null, ...tls, ...password },
  });
}

/** Waits until job `id` has completed or failed for good, and returns it with its final state. */
export async function waitForJob(queue: Queue, id: string, timeoutMs: number): Promise<{ job: Job; state: string }> {
  let job: Job | undefined;
  let state = '';
  await waitFor(
    async () => {
      job = await queue.getJob(id);
      state = job ? await job.getState() : 'missing';
      return state === 'completed' || state === 'failed';
    },
    timeoutMs,
    `job ${id} to end`,
  );
  return { job: job!, state };
}
