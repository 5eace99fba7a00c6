/**
 * The dashboard against fabricated run directories (RUN_FORMAT.md): runs list, run page contents, live updates
 * while a run trains, path-traversal attempts on every named route, and screenshots at desktop and phone sizes.
 */
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifact, launchBrowser, multipart, startServer, type Dashboard } from './harness';
import { batchLine, makeFakeRun, metricsLine } from './fakeRun';
import { WEIGHTS_HOME } from '../../test-support/shared';

let base: string;
let runs: string;
let dash: Dashboard;
let browser: Browser;
let closeBrowser: () => Promise<void>;
const SECRET = 'TOP-SECRET-CONTENT-42';

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'fastts-web-e2e-'));
  runs = join(base, 'runs');
  mkdirSync(runs);
  await makeFakeRun(runs, '20261128-010000-mobilenet_v1_0.25_224', {
    epochs: 3,
    confusion: [
      [15, 1],
      [2, 15],
    ],
    k: 9,
  });
  await makeFakeRun(runs, '20261128-020000-live', { status: 'running', epochs: 1, itersPerEpoch: 4 });
  // Things outside the runs directory that must never be served.
  writeFileSync(join(base, 'secret.txt'), SECRET);
  writeFileSync(join(base, 'secret.png'), SECRET);
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside', 'config.json'), JSON.stringify({ arch: SECRET }));
  writeFileSync(join(base, 'outside', 'metrics.jsonl'), '');
  symlinkSync(join(base, 'outside'), join(runs, 'linked'));
  symlinkSync(join(base, 'secret.png'), join(runs, '20261128-010000-mobilenet_v1_0.25_224', 'leak.png'));
  // A weight cache with one real arch, a symlinked arch folder pointing outside, and a symlinked file inside one.
  const home = join(base, 'home');
  cpSync(join(WEIGHTS_HOME, 'models', 'mobilenet_v1_0.25_224'), join(home, 'models', 'mobilenet_v1_0.25_224'), {
    recursive: true,
  });
  mkdirSync(join(base, 'outside-arch'));
  writeFileSync(join(base, 'outside-arch', 'model.json'), JSON.stringify({ secret: SECRET }));
  symlinkSync(join(base, 'outside-arch'), join(home, 'models', 'evil'));
  symlinkSync(join(base, 'secret.txt'), join(home, 'models', 'mobilenet_v1_0.25_224', 'leak.json'));
  mkdirSync(join(home, 'models', 'imagenet-samples'));
  writeFileSync(join(home, 'models', 'imagenet-samples', 'expected.json'), '{}');
  dash = await startServer(runs, { FASTTS_HOME: home, FASTTS_DASHBOARD_MAX_UPLOAD_BYTES: String(1024 * 1024) });
  ({ browser, close: closeBrowser } = await launchBrowser());
});

afterAll(async () => {
  await closeBrowser?.();
  await dash?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

async function page(viewport = { width: 1280, height: 800 }): Promise<Page> {
  const ctx = await dash.context(browser, { viewport, deviceScaleFactor: 1 });
  return ctx.newPage();
}

describe('runs list', () => {
  it('lists the runs with arch, dataset, status and best accuracy, and skips symlinked runs', async () => {
    const p = await page();
    const res = await p.goto(dash.url);
    expect(res?.status()).toBe(200);
    const rows = p.getByTestId('run-row');
    expect(await rows.count()).toBe(2);
    const first = rows.nth(0);
    expect(await first.getAttribute('data-run-id')).toBe('20261128-020000-live');
    const done = p.locator('[data-run-id="20261128-010000-mobilenet_v1_0.25_224"]');
    const text = await done.innerText();
    expect(text).toContain('mobilenet_v1_0.25_224');
    expect(text).toContain('doraemon-walle');
    expect(text).toContain('finished');
    expect(await done.getByTestId('best-accuracy').innerText()).toBe('94.0%');
    expect(await first.innerText()).toContain('running');
    expect(await p.content()).not.toContain(SECRET);
    await p.screenshot({ path: artifact('runs-1280x800.png'), fullPage: true });
    await p.context().close();
  });
});

describe('runs list as the runs folder grows', () => {
  it('paginates, sorts by best accuracy and filters by status on the server', async () => {
    const p = await page();
    await p.goto(`${dash.url}/?limit=1`);
    expect(await p.getByTestId('run-row').count()).toBe(1);
    expect(await p.getByTestId('runs-total').innerText()).toMatch(/^page 1 of \d+ · \d+ runs$/);
    await p.getByTestId('page-next').click();
    await expect.poll(() => p.getByTestId('runs-total').innerText()).toMatch(/^page 2 of /);
    await p.goto(dash.url);
    await p.getByTestId('sort-accuracy').click();
    await expect
      .poll(() => p.getByTestId('run-row').first().getAttribute('data-run-id'))
      .toBe('20261128-010000-mobilenet_v1_0.25_224');
    expect(p.url()).toContain('sort=accuracy');
    await p.getByTestId('filter-status').selectOption('running');
    await p.getByTestId('filter-apply').click();
    await expect.poll(() => p.getByTestId('run-row').count()).toBe(1);
    expect(await p.getByTestId('run-row').first().getAttribute('data-run-id')).toBe('20261128-020000-live');
    const api = JSON.parse(
      (await dash.get('/api/runs?status=finished&sort=accuracy&limit=1', { accept: 'application/json' })).body,
    ) as { runs: { id: string }[]; total: number; pages: number };
    expect(api.runs.map((r) => r.id)).toEqual(['20261128-010000-mobilenet_v1_0.25_224']);
    expect(api.pages).toBe(api.total);
    expect((await dash.get('/api/runs?sort=loss', { accept: 'application/json' })).status).toBe(400);
    await p.context().close();
  });

  it('shows a new run in the open list within 2 s, without a reload', async () => {
    const p = await page();
    await p.goto(dash.url);
    await expect.poll(() => p.getByTestId('runs-live').getAttribute('data-live')).toBe('yes');
    const before = await p.getByTestId('run-row').count();
    // Written elsewhere, then moved in at once, as a copy of a run would arrive.
    const staged = await makeFakeRun(base, '20261128-030000-new', { status: 'running', epochs: 1 });
    const t0 = Date.now();
    renameSync(staged, join(runs, '20261128-030000-new'));
    await expect.poll(() => p.getByTestId('run-row').count(), { timeout: 2000, interval: 50 }).toBe(before + 1);
    console.log(`new run in the open runs list after ${Date.now() - t0} ms`);
    expect(await p.getByTestId('run-row').first().getAttribute('data-run-id')).toBe('20261128-030000-new');
    rmSync(join(runs, '20261128-030000-new'), { recursive: true });
    await expect.poll(() => p.getByTestId('run-row').count(), { timeout: 2000, interval: 50 }).toBe(before);
    await p.context().close();
  });
});

describe('run page', () => {
  const id = '20261128-010000-mobilenet_v1_0.25_224';

  it('shows the curves, the epoch table, the confusion matrix with clickable cells, top losses and test predictions', async () => {
    const p = await page();
    await p.goto(`${dash.url}/runs/${id}`);
    // Loss curves: one train point per batch, one valid point per epoch; the schedule per batch.
    expect(await p.locator('[data-testid="loss-chart"] [data-series="train (batch)"]').getAttribute('data-points')).toBe('15');
    expect(await p.locator('[data-testid="loss-chart"] [data-series="valid (epoch)"]').getAttribute('data-points')).toBe('3');
    expect(await p.locator('[data-testid="lr-chart"] [data-series="lr"]').getAttribute('data-points')).toBe('15');
    expect(await p.locator('[data-testid="epoch-table"] tbody tr').count()).toBe(3);
    // Confusion matrix counts are the interpretation's.
    const interp = JSON.parse(readFileSync(join(runs, id, 'interpretation.json'), 'utf8')) as { confusion: number[][] };
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 2; b++) {
        expect(Number(await p.getByTestId(`cm-cell-${a}-${b}`).innerText())).toBe(interp.confusion[a]![b]);
      }
    expect(await p.getByTestId('most-confused').innerText()).toBe(
      'Most confused (actual → predicted): walle → doraemon (2), doraemon → walle (1)',
    );
    await p.getByTestId('cm-cell-1-0').click();
    await expect.poll(() => p.getByTestId('cm-item').count()).toBe(2);
    expect(await p.getByTestId('cm-items').innerText()).toContain('walle predicted as doraemon: 2 images');
    const thumbs = p.locator('[data-testid="cm-item"] img');
    await expect
      .poll(() => thumbs.evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth === 96)))
      .toBe(true);
    // Top losses: k tiles, the wrong ones first.
    expect(await p.getByTestId('top-loss').count()).toBe(9);
    expect(await p.getByTestId('top-loss').first().innerText()).toMatch(/doraemon\/walle|walle\/doraemon/);
    expect(await p.getByTestId('test-prediction').count()).toBe(6);
    expect(await p.getByTestId('batch-grid').evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBe(64);
    await p.screenshot({ path: artifact('run-1280x800.png'), fullPage: true });
    await p.context().close();
  });

  it('is usable on a phone-sized viewport (no horizontal page scroll)', async () => {
    const p = await page({ width: 390, height: 844 });
    await p.goto(`${dash.url}/runs/${id}`);
    await p.getByTestId('cm-cell-0-1').click();
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await p.screenshot({ path: artifact('run-phone-390x844.png'), fullPage: true });
    await p.goto(dash.url);
    expect(await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await p.screenshot({ path: artifact('runs-phone-390x844.png'), fullPage: true });
    for (const page_ of ['predict', 'train']) {
      await p.goto(`${dash.url}/${page_}`);
      expect(await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), page_).toBeLessThanOrEqual(0);
      await p.screenshot({ path: artifact(`${page_}-phone-390x844.png`), fullPage: true });
    }
    await p.context().close();
  });

  it('updates live while a run is training, and stops when it finishes', async () => {
    const live = '20261128-020000-live';
    const dir = join(runs, live);
    const p = await page();
    if (process.env.DEBUG_LIVE) {
      p.on('console', (m) => console.log('console:', m.text()));
      p.on('response', (r) => !r.url().includes('_next/static') && console.log('res', r.status(), r.url()));
    }
    await p.goto(`${dash.url}/runs/${live}`);
    await expect.poll(() => p.getByTestId('live-indicator').innerText()).toContain('live');
    expect(await p.locator('[data-testid="epoch-table"] tbody tr').count()).toBe(1);
    expect(await p.getByTestId('run-progress').innerText()).toContain('4 / 12 batches');
    for (let i = 4; i < 8; i++) appendFileSync(join(dir, 'batches.jsonl'), batchLine(i, 12, 4));
    appendFileSync(join(dir, 'metrics.jsonl'), metricsLine(1));
    await expect.poll(() => p.locator('[data-testid="epoch-table"] tbody tr').count(), { timeout: 15_000 }).toBe(2);
    expect(await p.locator('[data-testid="loss-chart"] [data-series="train (batch)"]').getAttribute('data-points')).toBe('8');
    expect(await p.getByTestId('run-progress').innerText()).toContain('8 / 12 batches');
    writeFileSync(join(dir, 'status.json'), JSON.stringify({ status: 'finished' }));
    await expect.poll(() => p.getByTestId('run-status').innerText(), { timeout: 15_000 }).toBe('finished');
    await p.context().close();
  });
});

describe('security', () => {
  const id = '20261128-010000-mobilenet_v1_0.25_224';
  const attempts = (prefix: string) => [
    `${prefix}/..%2f..%2fsecret.txt`,
    `${prefix}/%2e%2e/%2e%2e/secret.txt`,
    `${prefix}/%2e%2e%2f%2e%2e%2fsecret.txt`,
    `${prefix}/..%252f..%252fsecret.txt`,
    `${prefix}/%2fetc%2fpasswd`,
    `${prefix}/..%5c..%5csecret.txt`,
    `${prefix}/.%2e/.%2e/secret.txt`,
  ];
  const routes = [
    ...attempts('/runs'),
    '/runs/linked',
    ...attempts('/api/runs'),
    '/api/runs/linked',
    ...attempts('/api/runs').map((p) => `${p}/events`),
    '/api/runs/linked/events',
    ...attempts(`/api/runs/${id}/files`),
    `/api/runs/${id}/files/leak.png`,
    `/api/runs/${id}/files/..%2f..%2fsecret.png`,
    `/api/runs/${id}/files/thumbs/..%2f..%2f..%2fsecret.png`,
    '/api/runs/linked/files/config.json',
    `/api/runs/%2e%2e/files/secret.png`,
    ...attempts('/api/models'),
    '/api/models/mobilenet_v1_0.25_224/..%2f..%2f..%2fdatasets%2fdoraemon-walle%2ftest%2fwalle.113.jpg',
    '/api/models/..%2fdatasets/doraemon-walle',
    '/api/models/imagenet-samples/expected.json%00.bin',
    '/api/models/%2fetc/passwd',
    '/api/models/evil',
    '/api/models/evil/model.json',
    '/api/models/mobilenet_v1_0.25_224/leak.json',
    '/api/models/..',
    '/api/models/..%2f..%2fhome',
  ];

  it.each(routes)('GET %s is a 4xx that leaks nothing', async (path) => {
    let r = await dash.get(path);
    // Next.js answers a raw `..` segment with a redirect to the normalized path: follow it (same origin only).
    if (r.status >= 300 && r.status < 400) {
      expect(r.location, `${path} redirects somewhere`).toMatch(/^\/[^/]/);
      r = await dash.get(r.location!);
    }
    expect(r.status, `${path} -> ${r.status} ${r.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
    expect([401, 429], 'refused by the app, not by the token gate').not.toContain(r.status);
    expect(r.status).toBeLessThan(500);
    expect(r.body).not.toContain(SECRET);
    expect(r.body).not.toContain('root:x:0');
    expect(r.body).not.toContain(base);
    expect(r.body).not.toMatch(/at \S+ \(.*:\d+:\d+\)/); // no stack trace
  });

  it('serves what it should: run files, model files of the cache, and the JSON API', async () => {
    expect((await dash.get(`/api/runs/${id}/files/thumbs/valid/0.jpg`)).type).toBe('image/jpeg');
    expect((await dash.get(`/api/runs/${id}/files/test_predictions.csv`)).body).toContain('walle');
    const m = await dash.get('/api/models/mobilenet_v1_0.25_224/model.json');
    expect(m.status).toBe(200);
    expect(JSON.parse(m.body).weightsManifest).toBeDefined();
    expect((await dash.get('/api/models/mobilenet_v1_0.25_224/mobilenet_group1-shard1of1')).status).toBe(200);
    expect((await dash.get('/api/models/imagenet-samples/expected.json')).status).toBe(404);
    const list = JSON.parse((await dash.get('/api/models')).body) as { archs: string[] };
    expect(list.archs).toEqual(['mobilenet_v1_0.25_224']);
    const files = JSON.parse((await dash.get('/api/models/mobilenet_v1_0.25_224')).body) as { files: string[] };
    expect(files.files).toContain('model.json');
    expect(files.files).toContain('mobilenet_group1-shard1of1');
    expect(files.files).not.toContain('LICENSE.appinventor');
    const run = JSON.parse((await dash.get(`/api/runs/${id}`)).body) as { interpretation: { confusion: number[][] } };
    expect(run.interpretation.confusion).toEqual([
      [15, 1],
      [2, 15],
    ]);
  });

  it('ignores a predict-page model choice that is not a run', async () => {
    for (const q of ['..%2f..%2fsecret.txt', '%2e%2e', 'linked', '/etc/passwd']) {
      const r = await dash.get(`/predict?run=${q}`);
      expect(r.status).toBe(200);
      expect(r.body).not.toContain(SECRET);
    }
  });

  it('renders a missing run as a 404 page, not a stack trace', async () => {
    const p = await page();
    const res = await p.goto(`${dash.url}/runs/no-such-run`);
    expect(res?.status()).toBe(404);
    expect(await p.getByTestId('not-found').innerText()).toContain('Not found');
    await p.context().close();
  });

  it('unsupported file types are refused (415)', async () => {
    writeFileSync(join(runs, id, 'notes.svg'), '<svg onload="alert(1)"/>');
    expect((await dash.get(`/api/runs/${id}/files/notes.svg`)).status).toBe(415);
  });
});

describe('saving a browser-trained run (POST /api/runs)', () => {
  /** A minimal safetensors file: 8-byte header length, JSON header, no tensors. */
  const safetensors = (() => {
    const head = Buffer.from(JSON.stringify({ __metadata__: { format: 'fastts-export' } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(head.length));
    return new Uint8Array(Buffer.concat([len, head]));
  })();
  const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 0xff, 0xd9]);
  const good = () => ({
    config: JSON.stringify({ arch: 'mobilenet_v1_0.25_224', classes: ['doraemon', 'walle'] }),
    metrics: '{"epoch":0,"phase":"frozen","train_loss":0.4,"valid_loss":0.2,"accuracy":0.95,"error_rate":0.05,"seconds":3}\n',
    interpretation: JSON.stringify({
      classes: ['doraemon', 'walle'],
      confusion: [
        [1, 0],
        [0, 1],
      ],
      items: [
        { actual: 0, pred: 0, loss: 0.1, prob: 0.9, file: 'a.jpg', thumb: '../../../etc/passwd' },
        { actual: 1, pred: 1, loss: 0.2, prob: 0.8, file: 'b.jpg' },
      ],
    }),
    model: { bytes: safetensors, filename: 'export.safetensors' },
    'thumb:0': { bytes: jpeg, filename: '0.jpg' },
  });
  const post = (
    parts: ReturnType<typeof good> | Record<string, string | { bytes: Uint8Array; filename: string }>,
    headers: Record<string, string> = {},
  ) => {
    const m = multipart(parts);
    const u = new URL(dash.url);
    return dash.post(
      '/api/runs',
      { origin: `http://${u.host}`, 'content-type': m.type, 'content-length': String(m.body.length), ...headers },
      m.body,
    );
  };

  it('accepts a same-origin upload and writes it as a finished run with fixed file names', async () => {
    const r = await post(good());
    expect(r.status, r.body).toBe(201);
    const { id } = JSON.parse(r.body) as { id: string };
    expect(id).toMatch(/^browser-\d{8}-\d{6}-mobilenet_v1_0\.25_224(-\d+)?$/);
    const run = JSON.parse((await dash.get(`/api/runs/${id}`)).body) as {
      status: string;
      modelFiles: string[];
      interpretation: { items: { thumb: string | null }[] };
    };
    expect(run.status).toBe('finished');
    expect(run.modelFiles).toEqual(['model/export.safetensors']);
    expect(run.interpretation.items.map((i) => i.thumb)).toEqual(['thumbs/valid/0.jpg', null]);
    expect((await dash.get(`/api/runs/${id}/files/thumbs/valid/0.jpg`)).type).toBe('image/jpeg');
  });

  it('refuses cross-origin, wrong types, oversize and unknown parts', async () => {
    const m = multipart(good());
    const base = { 'content-type': m.type, 'content-length': String(m.body.length) };
    expect((await dash.post('/api/runs', base, m.body)).status).toBe(403); // no Origin
    expect((await dash.post('/api/runs', { ...base, origin: 'http://evil.example' }, m.body)).status).toBe(403);
    expect((await post(good(), { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    const u = new URL(dash.url);
    expect(
      (await dash.post('/api/runs', { origin: `http://${u.host}`, 'content-type': 'application/json' }, Buffer.from('{}')))
        .status,
    ).toBe(415);
    // Over the limit (lowered to 1 MiB for this server), with an honest Content-Length and with chunked encoding.
    const big = { ...good(), model: { bytes: new Uint8Array(2 * 1024 * 1024), filename: 'big.safetensors' } };
    expect((await post(big)).status).toBe(413);
    const mb = multipart(big);
    expect(
      (
        await dash.post(
          '/api/runs',
          { origin: `http://${u.host}`, 'content-type': mb.type, 'transfer-encoding': 'chunked' },
          mb.body,
        )
      ).status,
    ).toBe(413);
    expect((await post({ ...good(), '../../evil': 'x' })).status).toBe(400);
    expect(
      (await post({ ...good(), model: { bytes: new TextEncoder().encode('not a model at all'), filename: 'x.safetensors' } }))
        .status,
    ).toBe(415);
    expect((await post({ ...good(), 'thumb:0': { bytes: new TextEncoder().encode('<svg/>'), filename: '0.jpg' } })).status).toBe(
      415,
    );
    expect((await post({ ...good(), config: JSON.stringify({ arch: '../x' }) })).status).toBe(400);
    expect((await post({ ...good(), config: '{nope' })).status).toBe(400);
  });
});
