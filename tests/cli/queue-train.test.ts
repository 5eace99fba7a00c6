/**
 * Training on the work queue, and its faults: Redis down at start (exit 1, one clear line); a job whose data folder
 * is missing fails with the CLI's one-line message and the worker takes the next job; the worker running a training
 * job SIGKILLed mid-epoch — the other worker resumes the run from its last epoch checkpoint (no epoch repeated) and
 * finishes it; Redis restarted while a worker waits — the worker reconnects and runs the next job.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedis, type TestRedis } from '../../test-support/redis.js';
import { DORAEMON_WALLE, requireShared } from '../../test-support/shared.js';
import { openQueue, startWorker, waitFor, waitForJob, type TestWorker } from './queue-helpers.js';
import { lines, runCli } from './run-cli.js';

const TMP = mkdtempSync(join(tmpdir(), 'fastts-e2e-queue-train-'));
const RUNS = join(TMP, 'runs');
const SMALL = ['--arch', 'mobilenet_v1_0.25_224', '--size', '64', '--bs', '16', '--seed', '5'];
let redis: TestRedis;
let queue: Queue;
const workers: TestWorker[] = [];

/** `fastts submit train ... --json`: the submitted jobs. */
async function submit(data: string, extra: string[]): Promise<Array<{ id: string; runDir: string }>> {
  const r = await runCli(['submit', 'train', data, '--redis', redis.url, '--runs', RUNS, ...SMALL, ...extra, '--json'], {
    cwd: TMP,
  });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { jobs: Array<{ id: string; runDir: string }> }).jobs;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const jsonl = (file: string): Array<Record<string, unknown>> =>
  existsSync(file) ? lines(readFileSync(file, 'utf8')).map((l) => JSON.parse(l) as Record<string, unknown>) : [];

beforeAll(async () => {
  requireShared();
  redis = await startRedis();
  queue = openQueue(redis.url);
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await queue?.close();
  await redis?.stop();
  rmSync(TMP, { recursive: true, force: true });
});

describe('fastts worker', () => {
  it('exits 1 with one clear line when Redis is unreachable at start, the password redacted', async () => {
    const port = await freePort();
    const r = await runCli(['worker', '--redis', `redis://:s3cret-pw@127.0.0.1:${port}`], { cwd: TMP, timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      `error: cannot reach Redis at redis://:***@127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}); start redis-server there, or give the right URL with --redis (redis://[:password@]host:port, rediss:// for TLS)`,
    ]);
    expect(r.stderr + r.stdout).not.toContain('s3cret-pw');
  });

  it('fails a job whose data folder is missing with the one-line reason, then takes the next job', async () => {
    workers.push(await startWorker(redis.url, TMP), await startWorker(redis.url, TMP));
    const [missing] = await submit(join(TMP, 'no-such-data'), ['--epochs', '1']);
    const { job, state } = await waitForJob(queue, missing!.id, 120_000);
    expect(state).toBe('failed');
    expect(job.failedReason).toMatch(/^data folder '.*no-such-data' does not exist; /);
    expect(job.failedReason).not.toContain('\n');
    expect(job.attemptsMade).toBe(1); // a usage error is not retried
    for (const w of workers) expect(w.proc.exitCode).toBeNull();
  }, 180_000);

  it('resumes a training job on the other worker when the one running it is SIGKILLed mid-epoch', async () => {
    // 2 frozen + 1 unfrozen epochs; the kill lands in the second epoch, after the first one's checkpoint.
    const [job] = await submit(DORAEMON_WALLE, ['--epochs', '2', '--unfreeze-epochs', '1']);
    const run = job!.runDir;
    const nIter = Math.floor(279 / 16);
    await waitFor(
      () => jsonl(join(run, 'metrics.jsonl')).length >= 1 && jsonl(join(run, 'batches.jsonl')).length >= nIter + 3,
      300_000,
      'epoch 1 and a few batches of epoch 2',
    );
    const record = JSON.parse(readFileSync(join(run, 'queue.json'), 'utf8')) as { attempts: Array<{ pid: number }> };
    const victim = workers.find((w) => w.proc.pid === record.attempts[0]!.pid)!;
    const survivor = workers.find((w) => w !== victim)!;
    const child = (JSON.parse(readFileSync(join(run, 'status.json'), 'utf8')) as { pid: number }).pid; // its training process
    victim.proc.kill('SIGKILL');
    await victim.exited;
    // The training process dies with its worker: nothing writes to the run but the worker that resumes it.
    await waitFor(() => !alive(child), 10_000, `training process ${child} to end with its worker`);
    workers.splice(workers.indexOf(victim), 1);
    const before = jsonl(join(run, 'batches.jsonl')).slice(0, nIter);

    const { job: done, state } = await waitForJob(queue, job!.id, 300_000);
    expect(state, done.failedReason).toBe('completed');
    expect(done.returnvalue).toMatchObject({ runDir: run, resumedFrom: { phase: 'frozen', epoch: 1 } });
    expect(survivor.log()).toMatch(new RegExp(`job ${job!.id}: resumed .* from its checkpoint after frozen epoch 1`));
    const metrics = jsonl(join(run, 'metrics.jsonl')).map((m) => [m.phase, m.epoch]);
    expect(metrics).toEqual([
      ['frozen', 0],
      ['frozen', 1],
      ['unfrozen', 0],
    ]);
    const iters = jsonl(join(run, 'batches.jsonl')).map((b) => b.iter);
    expect(iters).toEqual(Array.from({ length: 3 * nIter }, (_, i) => i));
    expect(jsonl(join(run, 'batches.jsonl')).slice(0, nIter)).toEqual(before); // epoch 1 is the first worker's
    const attempts = (
      JSON.parse(readFileSync(join(run, 'queue.json'), 'utf8')) as { attempts: Array<{ pid: number; resumedFrom?: unknown }> }
    ).attempts;
    expect(attempts.map((a) => a.pid)).toEqual([victim.proc.pid, survivor.proc.pid]);
    expect(attempts[1]!.resumedFrom).toEqual({ phase: 'frozen', epoch: 1 });
    expect(existsSync(join(run, 'model', 'export.safetensors'))).toBe(true);
    expect(JSON.parse(readFileSync(join(run, 'status.json'), 'utf8'))).toMatchObject({ status: 'finished' });
  }, 600_000);

  it('reconnects when Redis restarts while it waits, and runs the next job', async () => {
    const survivor = workers[0]!;
    await redis.kill();
    await waitFor(() => /reconnecting/.test(survivor.log()), 30_000, 'the worker to notice');
    await new Promise((r) => setTimeout(r, 2000));
    await redis.start();
    await waitFor(() => /connected again/.test(survivor.log()), 30_000, 'the worker to reconnect');
    const [job] = await submit(DORAEMON_WALLE, ['--epochs', '1']);
    const { job: done, state } = await waitForJob(queue, job!.id, 300_000);
    expect(state, done.failedReason).toBe('completed');
    expect(survivor.proc.exitCode).toBeNull();
    expect(survivor.log()).not.toMatch(/^\s+at /m);
  }, 400_000);

  it('on SIGTERM checkpoints its training job, puts it back in the queue and exits 0; another worker resumes it', async () => {
    const worker = workers.pop()!;
    const [job] = await submit(DORAEMON_WALLE, ['--epochs', '2']);
    const run = job!.runDir;
    await waitFor(
      () => jsonl(join(run, 'metrics.jsonl')).length >= 1 && jsonl(join(run, 'batches.jsonl')).length >= 20,
      300_000,
      'epoch 1 and a few batches of epoch 2',
    );
    worker.proc.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.log()).toMatch(new RegExp(`job ${job!.id}: checkpointed and put back in the queue`));
    expect(JSON.parse(readFileSync(join(run, 'status.json'), 'utf8'))).toMatchObject({ status: 'interrupted' });
    expect(['waiting', 'delayed', 'prioritized']).toContain(await (await queue.getJob(job!.id))!.getState());

    workers.push(await startWorker(redis.url, TMP));
    const { job: done, state } = await waitForJob(queue, job!.id, 300_000);
    expect(state, done.failedReason).toBe('completed');
    expect(done.attemptsMade).toBe(1);
    expect(done.returnvalue).toMatchObject({ resumedFrom: { phase: 'frozen' } });
    expect(jsonl(join(run, 'metrics.jsonl')).map((m) => [m.phase, m.epoch])).toEqual([
      ['frozen', 0],
      ['frozen', 1],
    ]);
  }, 600_000);
});
