/**
 * The dashboard with a work queue: a sweep of 2 architectures x 2 seeds (64 px, 1 epoch) submitted with
 * `fastts submit train` runs on two `fastts worker`s (a real redis-server); the Queue page lists the jobs with links
 * to their runs and submits a new training job from its form (same origin, data set names checked); the runs list
 * selects the 4 runs and the comparison page overlays their curves and shows what differs in their configs.
 * Screenshot: /tmp/fastts-compare.png (and tests/web/artifacts/compare.png).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../test-support/redis';
import { DORAEMON_WALLE, requireShared, SHARED_DIR } from '../../test-support/shared';
import { startWorker, type TestWorker } from '../cli/queue-helpers';
import { runCli } from '../cli/run-cli';
import { artifact, launchBrowser, startServer, type Dashboard } from './harness';

const ARCHS = ['mobilenet_v1_0.25_224', 'mobilenet_v1_0.75_224'];
let base: string;
let runs: string;
let redis: TestRedis;
const workers: TestWorker[] = [];
let dash: Dashboard;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let sweep: { sweepId: string; jobs: Array<{ id: string; runDir: string; options: { arch: string; seed: number } }> };

beforeAll(async () => {
  requireShared();
  base = mkdtempSync(join(tmpdir(), 'fastts-web-queue-'));
  runs = join(base, 'runs');
  mkdirSync(runs);
  redis = await startRedis();
  workers.push(await startWorker(redis.url, base), await startWorker(redis.url, base));
  const r = await runCli(
    [
      'submit',
      'train',
      DORAEMON_WALLE,
      '--redis',
      redis.url,
      '--runs',
      runs,
      '--arch',
      ARCHS.join(','),
      '--seed',
      '1,2',
      '--size',
      '64',
      '--bs',
      '32',
      '--epochs',
      '1',
      '--wait',
      '--json',
    ],
    { cwd: base, timeoutMs: 900_000 },
  );
  expect(r.code, r.stderr).toBe(0);
  sweep = JSON.parse(r.stdout) as typeof sweep;
  // A password in the URL (this test server has none: Redis ignores it) must never reach a page.
  const withPassword = redis.url.replace('redis://', 'redis://:dash-s3cret@');
  dash = await startServer(runs, { FASTTS_REDIS_URL: withPassword }, ['--data-root', join(SHARED_DIR, 'datasets')]);
  ({ browser, close: closeBrowser } = await launchBrowser());
}, 1_200_000);

afterAll(async () => {
  await closeBrowser?.();
  await dash?.stop();
  await Promise.all(workers.map((w) => w.stop()));
  await redis?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('a sweep on two workers', () => {
  it('ran its 4 jobs, one per combination, on both workers', () => {
    expect(sweep.sweepId).toMatch(/^sweep-\d{8}-\d{6}-[0-9a-f]{4}$/);
    expect(sweep.jobs.map((j) => [j.options.arch, j.options.seed])).toEqual([
      [ARCHS[0], 1],
      [ARCHS[0], 2],
      [ARCHS[1], 1],
      [ARCHS[1], 2],
    ]);
    expect(sweep.jobs.map((j) => j.runDir)).toEqual(sweep.jobs.map((j) => join(runs, j.id)));
    for (const w of workers) expect(w.log()).toMatch(/\(train\): done/);
  });

  it('the Queue page lists the jobs with links to their runs, and its form submits a training job', async () => {
    const ctx = await dash.context(browser, { viewport: { width: 1280, height: 900 } });
    const p = await ctx.newPage();
    await p.goto(`${dash.url}/queue`);
    for (const j of sweep.jobs) {
      const row = p.locator(`[data-job-id="${j.id}"]`);
      expect(await row.getAttribute('data-state')).toBe('completed');
      expect(await row.locator(`a[href="/runs/${j.id}"]`).count()).toBe(1);
    }
    expect(await p.content()).not.toContain('dash-s3cret');
    expect(await p.content()).toContain(':***@127.0.0.1');
    await p.getByTestId('submit-dataset').selectOption('doraemon-walle');
    await p.getByTestId('submit-arch').selectOption(ARCHS[0]!);
    await p.fill('input[name=size]', '64');
    await p.getByTestId('submit-button').click();
    await p.waitForURL(/\/queue\?(submitted|error)=/);
    expect(
      p.url(),
      await p
        .getByTestId('submit-error')
        .innerText()
        .catch(() => ''),
    ).toMatch(/submitted=/);
    const id = new URL(p.url()).searchParams.get('submitted')!;
    expect(await p.locator(`[data-job-id="${id}"]`).count()).toBe(1);
    await ctx.close();

    // Names are checked like the run routes; other origins are refused.
    const origin = { origin: dash.url, 'content-type': 'application/json' };
    const bad = await dash.post('/api/queue/train', origin, Buffer.from(JSON.stringify({ dataset: '..', arch: ARCHS[0] })));
    expect(bad.status).toBe(400);
    const outside = await dash.post(
      '/api/queue/train',
      origin,
      Buffer.from(JSON.stringify({ dataset: 'doraemon-walle/../..', arch: ARCHS[0] })),
    );
    expect(outside.status).toBe(400);
    const missing = await dash.post(
      '/api/queue/train',
      origin,
      Buffer.from(JSON.stringify({ dataset: 'no-such-set', arch: ARCHS[0] })),
    );
    expect(missing.status).toBe(404);
    const cross = await dash.post(
      '/api/queue/train',
      { ...origin, origin: 'http://evil.example' },
      Buffer.from(JSON.stringify({ dataset: 'doraemon-walle', arch: ARCHS[0] })),
    );
    expect(cross.status).toBe(403);
  }, 120_000);

  it('the comparison of the 4 runs overlays their curves and shows what differs, sortable by the best metric', async () => {
    const ctx = await dash.context(browser, { viewport: { width: 1280, height: 1000 } });
    const p = await ctx.newPage();
    await p.goto(dash.url);
    for (const j of sweep.jobs) await p.locator(`[data-run-id="${j.id}"]`).getByTestId('compare-check').check();
    await p.getByTestId('compare-button').click();
    await p.waitForURL(/\/compare\?/);
    for (const chart of ['compare-valid-loss', 'compare-accuracy']) {
      const series = p.getByTestId(chart).locator('[data-series]');
      expect(await series.count()).toBe(4);
      for (let i = 0; i < 4; i++) expect(await series.nth(i).getAttribute('data-points')).toBe('1');
    }
    const keys = await p.getByTestId('diff-key').allInnerTexts();
    expect(keys).toEqual(expect.arrayContaining(['arch', 'seed']));
    expect(keys).not.toContain('createdAt');
    expect(await p.getByTestId('compare-row').count()).toBe(4);
    const acc = (await p.getByTestId('compare-accuracy-cell').allInnerTexts()).map((t) => Number.parseFloat(t));
    expect(acc).toEqual([...acc].sort((a, b) => b - a));
    await p.screenshot({ path: artifact('compare.png'), fullPage: true });
    copyFileSync(artifact('compare.png'), '/tmp/fastts-compare.png');
    await p.getByTestId('compare-sort-valid-loss').click();
    await p.waitForURL(/sort=valid_loss/);
    expect(await p.getByTestId('compare-row').count()).toBe(4);
    await ctx.close();
  }, 120_000);
});
