/**
 * The Redis URL with a password and TLS: a redis-server that requires a password and serves only TLS (a
 * self-signed certificate the worker trusts through NODE_EXTRA_CA_CERTS); the worker takes its URL from
 * FASTTS_REDIS_URL, runs a job through it, and no output ever shows the password. A wrong password: exit 1, one
 * line, the password redacted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../test-support/redis.js';
import { openQueue, startWorker, waitForJob, type TestWorker } from './queue-helpers.js';
import { lines, runCli } from './run-cli.js';

const TMP = mkdtempSync(join(tmpdir(), 'fastts-e2e-queue-tls-'));
const PASSWORD = 'pa55-w0rd-xyz';
let redis: TestRedis;
let queue: Queue;
let worker: TestWorker | undefined;

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD, tls: true });
  queue = openQueue(redis.url, redis.caFile);
});

afterAll(async () => {
  await worker?.stop();
  await queue?.close();
  await redis?.stop();
  rmSync(TMP, { recursive: true, force: true });
});

describe('rediss:// with a password', () => {
  it('runs jobs through TLS and an authenticated connection, never showing the password', async () => {
    const env = { FASTTS_REDIS_URL: redis.url, NODE_EXTRA_CA_CERTS: redis.caFile! };
    worker = await startWorker(null, TMP, [], env);
    expect(worker.log()).toContain(`on rediss://:***@127.0.0.1:${redis.port}`);
    const submitted = await runCli(
      ['submit', 'train', join(TMP, 'missing'), '--arch', 'mobilenet_v1_0.25_224', '--runs', join(TMP, 'runs'), '--json'],
      { cwd: TMP, env },
    );
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = (JSON.parse(submitted.stdout) as { jobs: Array<{ id: string }> }).jobs[0]!.id;
    const { job, state } = await waitForJob(queue, id, 60_000);
    expect(state).toBe('failed');
    expect(job.failedReason).toMatch(/^data folder '.*missing' does not exist/);
    expect(JSON.stringify(job.data)).not.toContain(PASSWORD);
    expect(worker.log() + submitted.stderr + submitted.stdout).not.toContain(PASSWORD);
  }, 120_000);

  it('exits 1 with one line when the password is wrong', async () => {
    const wrong = redis.url.replace(PASSWORD, 'not-the-password');
    const r = await runCli(['worker', '--redis', wrong], {
      cwd: TMP,
      env: { NODE_EXTRA_CA_CERTS: redis.caFile! },
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^error: cannot reach Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+ \((WRONGPASS|ERR).*\); start redis-server/,
    );
    expect(r.stderr).not.toContain('not-the-password');
  }, 60_000);
});
