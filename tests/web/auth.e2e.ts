/**
 * The dashboard as a service others can reach: started with `--host 0.0.0.0` and `FASTTS_DASHBOARD_TOKEN=t0ken`,
 * every route of the app and the API (the list is derived from apps/web/app, so a new route cannot be forgotten)
 * answers 401 without the token and its normal success with `Authorization: Bearer t0ken`; in Chromium the tokened
 * URL logs in once and later navigation needs no token; the token is printed once and never reaches logs or run
 * files; wrong tokens past the limit get 429.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../test-support/shared';
import { launchBrowser, multipart, rawGet, rawPost, startServer, type Dashboard } from './harness';
import { makeFakeRun } from './fakeRun';

const APP = join(REPO_ROOT, 'apps', 'web', 'app');
const TOKEN = 't0ken';
const RUN = '20261128-010000-mobilenet_v1_0.25_224';
const ARCH = 'mobilenet_v1_0.25_224';

/** Values for the dynamic segments, by name (catch-alls by name and the route they are in). */
const SAMPLES: Record<string, string> = {
  id: RUN,
  arch: ARCH,
  'path@/api/runs/[id]/files/[...path]': 'thumbs/valid/0.jpg',
  'path@/api/models/[arch]/[...path]': 'model.json',
};

/** Metadata files the app router serves as routes of their own (`app/icon.svg` is `/icon.svg`). */
const METADATA = /^(icon|apple-icon|favicon|opengraph-image|twitter-image|robots|sitemap|manifest)\.\w+$/;

interface Route {
  /** The route as the app directory spells it (`/runs/[id]`). */
  pattern: string;
  method: string;
  kind: 'page' | 'api' | 'metadata';
}

/** Every route in the app directory: pages, route handlers (each exported method) and metadata files. */
function appRoutes(): Route[] {
  const out: Route[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (!name.startsWith('_')) walk(p); // `_folder`: private, not a route
        continue;
      }
      const segments = relative(APP, dir)
        .split(sep)
        .filter((s) => s && !/^\(.*\)$/.test(s)); // `(group)`: no URL segment
      const pattern = '/' + segments.join('/');
      if (/^page\.(tsx|ts|jsx|js|mdx)$/.test(name)) out.push({ pattern, method: 'GET', kind: 'page' });
      else if (/^route\.(ts|js)$/.test(name)) {
        for (const m of readFileSync(p, 'utf8').matchAll(
          /export\s+(?:async\s+)?function\s+(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\b/g,
        )) {
          out.push({ pattern, method: m[1]!, kind: 'api' });
        }
      } else if (METADATA.test(name))
        out.push({ pattern: `${pattern === '/' ? '' : pattern}/${name}`, method: 'GET', kind: 'metadata' });
    }
  };
  walk(APP);
  return out;
}

/** The concrete path for a route pattern, from {@link SAMPLES}. */
function concrete(pattern: string): string {
  return pattern.replace(/\[(\.\.\.)?([^\]]+)\]/g, (_, rest: string | undefined, name: string) => {
    const v = rest ? SAMPLES[`${name}@${pattern}`] : SAMPLES[name];
    if (v === undefined)
      throw new Error(`no sample value for [${rest ?? ''}${name}] in ${pattern}: add one to SAMPLES in tests/web/auth.e2e.ts`);
    return rest ? v : encodeURIComponent(v);
  });
}

/** A minimal safetensors export and a JPEG thumbnail: a run upload the server accepts. */
function upload(): { type: string; body: Buffer } {
  const head = Buffer.from(JSON.stringify({ __metadata__: { format: 'fastts-export' } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(head.length));
  return multipart({
    config: JSON.stringify({ arch: ARCH, classes: ['doraemon', 'walle'] }),
    metrics: '{"epoch":0,"phase":"frozen","train_loss":0.4,"valid_loss":0.2,"accuracy":0.95,"error_rate":0.05,"seconds":3}\n',
    model: { bytes: new Uint8Array(Buffer.concat([len, head])), filename: 'export.safetensors' },
  });
}

/** Sends one route's request, with `headers`. */
async function call(
  dash: Dashboard,
  r: Route,
  headers: Record<string, string>,
): Promise<{ status: number; type: string; body: string }> {
  const path = concrete(r.pattern);
  if (r.method === 'GET') return rawGet(dash.url, path, headers);
  if (r.method === 'POST' && r.pattern === '/api/runs') {
    const u = upload();
    return {
      ...(await rawPost(
        dash.url,
        path,
        {
          origin: `http://${new URL(dash.url).host}`,
          'content-type': u.type,
          'content-length': String(u.body.length),
          ...headers,
        },
        u.body,
      )),
      type: '',
    };
  }
  if (r.method === 'POST' && r.pattern === '/api/queue/train') {
    const body = Buffer.from(JSON.stringify({ dataset: 'doraemon-walle', arch: ARCH }));
    const headers2 = { origin: `http://${new URL(dash.url).host}`, 'content-type': 'application/json', ...headers };
    return { ...(await rawPost(dash.url, path, { ...headers2, 'content-length': String(body.length) }, body)), type: '' };
  }
  throw new Error(`no request for ${r.method} ${r.pattern}: teach tests/web/auth.e2e.ts how to call it`);
}

/** What the route answers on success. */
function success(r: Route): number {
  // This dashboard runs without a queue (no --redis, no --data-root): past the token, the training form's route
  // answers its own "no data root" 404 (tests/web/queue.e2e.ts submits real jobs).
  if (r.pattern === '/api/queue/train') return 404;
  return r.method === 'POST' ? 201 : 200;
}

let base: string;
let runs: string;
let dash: Dashboard;
let browser: Browser;
let closeBrowser: () => Promise<void>;
const routes = appRoutes();

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'fastts-web-auth-'));
  runs = join(base, 'runs');
  mkdirSync(runs);
  await makeFakeRun(runs, RUN, { epochs: 2 });
  dash = await startServer(runs, { FASTTS_DASHBOARD_TOKEN: TOKEN }, ['--host', '0.0.0.0']);
  ({ browser, close: closeBrowser } = await launchBrowser());
});

afterAll(async () => {
  await closeBrowser?.();
  await dash?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('the route list', () => {
  it('covers every route of the production build (pages, API methods, metadata files)', () => {
    const built = JSON.parse(
      readFileSync(join(REPO_ROOT, 'apps', 'web', '.next', 'app-path-routes-manifest.json'), 'utf8'),
    ) as Record<string, string>;
    const walked = new Set(routes.map((r) => r.pattern));
    const missing = Object.values(built).filter((p) => !p.startsWith('/_') && !walked.has(p));
    expect(missing, 'routes in the build that the walk of apps/web/app did not find').toEqual([]);
    expect(routes.length).toBeGreaterThanOrEqual(14);
    expect(routes.map((r) => `${r.method} ${r.pattern}`)).toEqual(
      expect.arrayContaining([
        'GET /',
        'GET /runs/[id]',
        'GET /api/runs',
        'POST /api/runs',
        'GET /api/runs/[id]/events',
        'GET /icon.svg',
      ]),
    );
  });

  it('prints the tokened URL for 0.0.0.0 on its first line', () => {
    const first = dash
      .log()
      .split('\n')
      .find((l) => l.includes('fastts dashboard on'))!;
    expect(first).toMatch(/fastts dashboard on http:\/\/0\.0\.0\.0:\d+\/\?token=t0ken \(runs: /);
  });
});

describe('without the token', () => {
  it.each(routes.map((r) => [`${r.method} ${r.pattern}`, r] as const))('%s -> 401', async (_, r) => {
    const res = await call(dash, r, {});
    expect(res.status, res.body.slice(0, 200)).toBe(401);
    expect(res.body).not.toContain('doraemon'); // nothing of the runs leaks
  });

  it('static assets and unknown paths -> 401 too', async () => {
    const html = (await dash.get('/')).body;
    const asset = /\/_next\/static\/[^"']+\.js/.exec(html)?.[0];
    expect(asset).toBeDefined();
    expect((await rawGet(dash.url, asset!)).status).toBe(401);
    expect((await dash.get(asset!)).status).toBe(200);
    expect((await rawGet(dash.url, '/no-such-page')).status).toBe(401);
  });

  it('a page visit gets the small "token needed" page', async () => {
    const r = await rawGet(dash.url, '/', { 'sec-fetch-mode': 'navigate' });
    expect(r.status).toBe(401);
    expect(r.type).toContain('text/html');
    expect(r.body).toContain('Token needed');
  });
});

describe('with Authorization: Bearer t0ken', () => {
  it.each(routes.map((r) => [`${r.method} ${r.pattern}`, r] as const))('%s -> its normal success', async (_, r) => {
    const res = await call(dash, r, dash.auth);
    expect(res.status, `${concrete(r.pattern)}: ${res.body.slice(0, 200)}`).toBe(success(r));
    if (r.pattern.endsWith('/events')) expect(res.type).toBe('text/event-stream');
  });
});

describe('in a browser', () => {
  it('the tokened URL logs in once (HttpOnly, SameSite=Strict cookie); later navigation needs no token', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await ctx.newPage();
    const res = await p.goto(dash.loginUrl);
    expect(res?.status()).toBe(200);
    expect(p.url()).toBe(`${dash.url}/`);
    const cookies = await ctx.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookies[0]!.value).not.toContain(TOKEN);
    expect(await p.evaluate(() => document.cookie)).toBe(''); // not readable by scripts
    // A client-side navigation, then fresh navigations by URL without the token.
    await p.locator(`[data-run-id="${RUN}"] a`).click();
    await p.waitForURL(`${dash.url}/runs/${RUN}`);
    await expect.poll(() => p.locator('[data-testid="epoch-table"] tbody tr').count()).toBe(2);
    for (const path of ['/predict', '/train', `/runs/${RUN}`, '/']) {
      const r = await p.goto(`${dash.url}${path}`);
      expect(r?.status(), path).toBe(200);
    }
    // Images and API calls of the pages go through on the cookie too.
    expect(await p.evaluate(async () => (await fetch('/api/runs')).status)).toBe(200);
    await p.goto(`${dash.url}/runs/${RUN}`);
    await expect
      .poll(() => p.locator('[data-testid="batch-grid"]').evaluate((i) => (i as HTMLImageElement).naturalWidth))
      .toBe(64);
    await ctx.close();
  });

  it('without the cookie, pages show "token needed", and pasting the token there opens the dashboard', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    const res = await p.goto(`${dash.url}/runs/${RUN}`);
    expect(res?.status()).toBe(401);
    expect(await p.getByTestId('auth-page').innerText()).toContain('Token needed');
    await p.getByTestId('auth-token').fill(TOKEN);
    await p.getByTestId('auth-token').press('Enter');
    await p.waitForURL(`${dash.url}/runs/${RUN}`);
    expect(await p.getByTestId('run-status').innerText()).toBe('finished');
    await ctx.close();
  });
});

describe('secrets', () => {
  it('the token appears once in the log (the start-up line), and in no run file', () => {
    const log = dash.log();
    expect(log.split(TOKEN).length - 1).toBe(1);
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else files.push(join(d, e.name));
      }
    };
    walk(runs);
    expect(files.some((f) => f.includes('browser-'))).toBe(true); // the POST above wrote a run
    for (const f of files) expect(readFileSync(f).includes(TOKEN), f).toBe(false);
  });
});

// Last: this blocks 127.0.0.1 for a minute.
describe('failed attempts', () => {
  it('answers 429 after 10 wrong tokens from one address, even to the right token then', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push((await rawGet(dash.url, '/api/runs', { authorization: `Bearer wrong-${i}` })).status);
    expect(statuses.slice(0, 11)).toEqual(Array(11).fill(401));
    expect(statuses[11]).toBe(429);
    const right = await dash.get('/api/runs', { accept: 'application/json' });
    expect(right.status).toBe(429);
    expect(JSON.parse(right.body).error).toMatch(/^too many wrong tokens from this address: try again in \d+ s$/);
    expect((await rawGet(dash.url, `/?token=${TOKEN}`, { 'sec-fetch-mode': 'navigate' })).status).toBe(429);
  });
});
