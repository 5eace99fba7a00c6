#!/usr/bin/env node
// @ts-check
/**
 * Load test of the dashboard as a team service: many runs, many concurrent clients, a run appearing while viewers
 * watch. Starts the production build (start.mjs, with a token) on 127.0.0.1 over a fresh runs folder of N copies of
 * one run (a real run given with --template, its model/ left out; else a fabricated one), then measures:
 *
 *   - start-up indexing (from the dashboard's start-up line),
 *   - `GET /api/runs` (first page) and `GET /`, one request at a time, after start-up,
 *   - C clients x R requests each (a bounded loop after a short warm-up; `--mix all`: list pages, sorts, filters,
 *     run pages and run JSON of runs all over the folder; `--mix list`: the runs list only, API and page):
 *     errors, latency percentiles, the server's RSS over the run (its second half against its first),
 *   - how long a new run takes to reach the list (an SSE `change` on /api/events, then `GET /api/runs`) while
 *     the clients run.
 *
 * Prints the numbers and PASS/FAIL per bound; exits 1 when one fails. Everything stays on 127.0.0.1.
 *
 *   node apps/web/scripts/load-test.mjs [--runs 1000] [--clients 20] [--requests 100] [--template <run dir>]
 *     [--mix all|list] [--api-ms 100] [--page-ms 300] [--p95-ms 500] [--appear-ms 2000] [--rss-growth-mb 64]
 *     [--json <file>] [--keep]
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** @typedef {{ runs: number, clients: number, requests: number, template: string | null, mix: 'all' | 'list', apiMs: number, pageMs: number, p95Ms: number, appearMs: number, rssGrowthMb: number, json: string | null, keep: boolean }} Options */

/** @param {string[]} argv @returns {Options} */
function parseOptions(argv) {
  /** @type {Options} */
  const o = {
    runs: 1000,
    clients: 20,
    requests: 100,
    template: null,
    mix: 'all',
    apiMs: 100,
    pageMs: 300,
    p95Ms: 500,
    appearMs: 2000,
    rssGrowthMb: 64,
    json: null,
    keep: false,
  };
  /** @type {Record<string, keyof Options>} */
  const numeric = {
    '--runs': 'runs',
    '--clients': 'clients',
    '--requests': 'requests',
    '--api-ms': 'apiMs',
    '--page-ms': 'pageMs',
    '--p95-ms': 'p95Ms',
    '--appear-ms': 'appearMs',
    '--rss-growth-mb': 'rssGrowthMb',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--keep') o.keep = true;
    else if (a === '--mix') {
      const v = argv[++i];
      if (v !== 'all' && v !== 'list') throw new Error('--mix needs all or list');
      o.mix = v;
    } else if (a === '--template' || a === '--json') {
      const v = argv[++i];
      if (!v) throw new Error(`${a} needs a value`);
      if (a === '--template') o.template = v;
      else o.json = v;
    } else if (numeric[a]) {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`);
      /** @type {any} */ (o)[numeric[a]] = v;
    } else throw new Error(`unknown option ${a}: see the comment at the top of apps/web/scripts/load-test.mjs`);
  }
  return o;
}

const ARCHS = ['mobilenet_v1_0.25_224', 'mobilenet_v1_0.75_224', 'resnet18', 'resnet34', 'resnet50-keras'];
const DATASETS = ['doraemon-walle', 'pets', 'cars'];
const STATUSES = ['finished', 'finished', 'finished', 'failed', 'interrupted'];

/** A fabricated finished run: what the CLI writes, minus images and the model (RUN_FORMAT.md). */
function fabricateTemplate(dir) {
  mkdirSync(dir, { recursive: true });
  const classes = ['doraemon', 'walle'];
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify(
      {
        arch: 'resnet18',
        dataDir: '/data/doraemon-walle',
        size: 224,
        bs: 32,
        epochs: 2,
        unfreezeEpochs: 3,
        classes,
        createdAt: '2026-01-01T00:00:00.000Z',
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(dir, 'status.json'),
    JSON.stringify({ status: 'finished', pid: 1, startedAt: '2026-01-01T00:00:00.000Z', totalIters: 250 }),
  );
  let batches = '';
  for (let i = 0; i < 250; i++)
    batches +=
      JSON.stringify({
        iter: i,
        epoch: Math.floor(i / 50),
        phase: i < 100 ? 'frozen' : 'unfrozen',
        loss: 0.7 * Math.exp(-i / 40) + 0.05,
        lr: 1e-3,
        mom: 0.9,
      }) + '\n';
  writeFileSync(join(dir, 'batches.jsonl'), batches);
  let metrics = '';
  for (let e = 0; e < 5; e++)
    metrics +=
      JSON.stringify({
        epoch: e % 2,
        phase: e < 2 ? 'frozen' : 'unfrozen',
        train_loss: 0.4 / (e + 1),
        valid_loss: 0.3 / (e + 1),
        accuracy: 0.85 + 0.02 * e,
        error_rate: 0.15 - 0.02 * e,
        seconds: 30,
      }) + '\n';
  writeFileSync(join(dir, 'metrics.jsonl'), metrics);
  const items = Array.from({ length: 33 }, (_, i) => ({
    index: i,
    file: `valid/x/${i}.jpg`,
    actual: i % 2,
    pred: i % 7 === 0 ? 1 - (i % 2) : i % 2,
    loss: i % 7 === 0 ? 1.5 : 0.05,
    prob: 0.9,
  }));
  writeFileSync(
    join(dir, 'interpretation.json'),
    JSON.stringify({
      classes,
      confusion: [
        [15, 2],
        [3, 13],
      ],
      items,
      k: 9,
    }),
  );
  writeFileSync(
    join(dir, 'test_predictions.csv'),
    'file,label,probability\n' + Array.from({ length: 6 }, (_, i) => `test/${i}.jpg,${classes[i % 2]},0.9`).join('\n') + '\n',
  );
}

/** Copies the template into `runsDir/id` (without `model/`), with its own date, arch, dataset, status and accuracy. */
function copyRun(template, runsDir, id, i) {
  const dir = join(runsDir, id);
  cpSync(template, dir, {
    recursive: true,
    filter: (src) => src !== join(template, 'model') && !src.startsWith(join(template, 'model') + '/') && !src.endsWith('.tmp'),
  });
  const config = JSON.parse(readFileSync(join(template, 'config.json'), 'utf8'));
  const date = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
  config.createdAt = date;
  config.arch = ARCHS[i % ARCHS.length];
  config.dataDir = `/data/${DATASETS[i % DATASETS.length]}`;
  delete config.dataset;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(
    join(dir, 'status.json'),
    JSON.stringify({ status: STATUSES[i % STATUSES.length], pid: 1, startedAt: date, finishedAt: date }),
  );
  const metricsFile = join(template, 'metrics.jsonl');
  if (existsSync(metricsFile)) {
    const scale = 0.9 + ((i * 7919) % 100) / 1000;
    const lines = readFileSync(metricsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const m = JSON.parse(l);
        if (typeof m.accuracy === 'number') m.accuracy = Math.min(1, m.accuracy * scale);
        return JSON.stringify(m);
      });
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  }
}

/** The resident set size of a process, in MiB (Linux /proc). */
function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) a process has used so far (Linux /proc; clock ticks of 10 ms). */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** @param {number[]} xs @param {number} p */
function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * One GET on loopback: status and milliseconds to the last byte.
 * @param {string} base @param {string} path @param {Record<string, string>} headers
 * @returns {Promise<{ status: number, ms: number, body: string }>}
 */
function get(base, path, headers) {
  const u = new URL(base);
  const t0 = performance.now();
  return new Promise((ok) => {
    const req = request({ host: u.hostname, port: u.port, path, headers, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, ms: performance.now() - t0, body }));
      res.on('error', () => ok({ status: 0, ms: performance.now() - t0, body: '' }));
    });
    req.setTimeout(30_000, () => req.destroy());
    req.on('error', () => ok({ status: 0, ms: performance.now() - t0, body: '' }));
    req.end();
  });
}

/**
 * Listens to /api/events; resolves `changes` entries with the time each `change` arrived.
 * @param {string} base @param {string} token
 */
function watchList(base, token) {
  const u = new URL(base);
  /** @type {number[]} */
  const changes = [];
  let open = false;
  const req = request(
    {
      host: u.hostname,
      port: u.port,
      path: '/api/events',
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      agent: false,
    },
    (res) => {
      open = res.statusCode === 200;
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          if (buf.slice(0, i).startsWith('event: change')) changes.push(performance.now());
          buf = buf.slice(i + 2);
        }
      });
      res.on('error', () => undefined);
    },
  );
  req.on('error', () => undefined);
  req.end();
  return { changes, isOpen: () => open, close: () => req.destroy() };
}

/** Starts the dashboard; resolves with its URL and the start-up line's numbers. */
function startDashboard(runsDir, token) {
  const t0 = performance.now();
  const proc = spawn(process.execPath, [join(APP_DIR, 'start.mjs'), '--runs', runsDir, '--port', '0', '--host', '127.0.0.1'], {
    env: { ...process.env, FASTTS_DASHBOARD_TOKEN: token, NEXT_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`the dashboard did not start in 300 s:\n${out.replaceAll(token, '<token>')}`)),
      300_000,
    );
    const onData = (d) => {
      out += d;
      const m = /on (http:\/\/[^/\s]+)\S* \(runs: .*?; (\d+) runs indexed in ([\d.]+) s/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok({ proc, url: m[1], indexed: Number(m[2]), indexSeconds: Number(m[3]), startSeconds: (performance.now() - t0) / 1000 });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (d) => (out += d));
    proc.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the dashboard exited with ${code}:\n${out.replaceAll(token, '<token>')}`));
    });
  });
}

/** Runs the whole test; returns the results (and whether every bound held). */
export async function runLoadTest(o) {
  const base = mkdtempSync(join(tmpdir(), 'fastts-web-load-'));
  const runsDir = join(base, 'runs');
  mkdirSync(runsDir);
  const template = o.template ?? join(base, 'template');
  if (!o.template) fabricateTemplate(template);
  const ids = [];
  const tCopy = performance.now();
  for (let i = 0; i < o.runs; i++) {
    const id = `${String(i).padStart(5, '0')}-run`;
    copyRun(template, runsDir, id, i);
    ids.push(id);
  }
  const copySeconds = (performance.now() - tCopy) / 1000;
  const token = randomBytes(24).toString('base64url');
  const auth = { authorization: `Bearer ${token}` };
  const page = { ...auth, accept: 'text/html' };
  const d = await startDashboard(runsDir, token);
  /** @type {Record<string, any>} */
  const results = {
    runs: o.runs,
    template: o.template ?? 'fabricated',
    copySeconds,
    indexed: d.indexed,
    indexSeconds: d.indexSeconds,
    startSeconds: d.startSeconds,
  };
  try {
    // One request at a time (after a warm-up that loads the route code).
    const single = async (path, headers, n = 15) => {
      for (let i = 0; i < 3; i++) await get(d.url, path, headers);
      const ms = [];
      for (let i = 0; i < n; i++) {
        const r = await get(d.url, path, headers);
        if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}: ${r.body.slice(0, 200)}`);
        ms.push(r.ms);
      }
      return { median: percentile(ms, 50), max: Math.max(...ms) };
    };
    results.apiRunsFirstPage = await single('/api/runs', auth);
    results.runsPage = await single('/', page);
    const first = JSON.parse((await get(d.url, '/api/runs?limit=1', auth)).body);
    if (first.total !== o.runs) throw new Error(`/api/runs lists ${first.total} runs, expected ${o.runs}`);

    // C clients x R requests, a mix of what viewers do.
    const paths = (i) => {
      const id = ids[(i * 37) % ids.length];
      const k = o.mix === 'list' ? (i % 2) * 3 + 2 : i % 10;
      if (k < 3)
        return [
          '/api/runs' +
            ['', '?page=3', '?sort=accuracy', '?arch=resnet18&status=finished', '?dataset=pets&sort=accuracy&order=asc&page=2'][
              i % 5
            ],
          auth,
          'api list',
        ];
      if (k < 6) return ['/' + ['', '?page=2', '?sort=accuracy', '?status=failed'][i % 4], page, 'runs page'];
      if (k < 8) return [`/api/runs/${id}`, auth, 'run json'];
      return [`/runs/${id}`, page, 'run page'];
    };
    // Warm-up: every route's code loaded and the heap grown to its working size before RSS is measured.
    await Promise.all(
      Array.from({ length: o.clients }, async (_, c) => {
        for (let i = 0; i < 10; i++) {
          const [path, headers] = paths(1_000_000 + c * 10 + i);
          await get(d.url, path, headers);
        }
      }),
    );
    const watchers = Array.from({ length: 3 }, () => watchList(d.url, token));
    // The new run is written outside the runs folder first, then moved in at once (as a finished copy).
    const newId = '99999-new-run';
    copyRun(template, base, newId, o.runs + 10_000);
    const rss = [];
    const sampler = setInterval(() => rss.push(rssMb(d.proc.pid)), 250);
    const lat = [];
    /** @type {Record<string, number[]>} */
    const byKind = {};
    let errors = 0;
    const errorSamples = [];
    let done = 0;
    const total = o.clients * o.requests;
    let appear = null;
    const appearTest = (async () => {
      while (done < total / 2) await new Promise((r) => setTimeout(r, 20));
      const seen = watchers.map((w) => w.changes.length);
      const t0 = performance.now();
      renameSync(join(base, newId), join(runsDir, newId));
      let listed = NaN;
      while (performance.now() - t0 < 10_000) {
        const r = await get(d.url, '/api/runs?limit=5', auth);
        if (r.status === 200 && JSON.parse(r.body).runs.some((x) => x.id === newId)) {
          listed = performance.now() - t0;
          break;
        }
        await new Promise((res) => setTimeout(res, 25));
      }
      const events = watchers.map((w, i) => (w.changes.length > seen[i] ? w.changes[seen[i]] - t0 : NaN));
      appear = { listedMs: listed, eventMs: Math.max(...events), watchers: watchers.filter((w) => w.isOpen()).length };
    })();
    const rss0 = rssMb(d.proc.pid);
    const cpu0 = cpuSeconds(d.proc.pid);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: o.clients }, async (_, c) => {
        for (let i = 0; i < o.requests; i++) {
          const [path, headers, kind] = paths(c * o.requests + i);
          const r = await get(d.url, path, headers);
          done++;
          if (r.status !== 200) {
            errors++;
            if (errorSamples.length < 5) errorSamples.push(`${path} -> ${r.status} ${r.body.slice(0, 120)}`);
          }
          lat.push(r.ms);
          (byKind[kind] ??= []).push(r.ms);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(d.proc.pid) - cpu0;
    await appearTest;
    clearInterval(sampler);
    for (const w of watchers) w.close();
    const quarter = (q) => Math.max(...rss.slice(Math.floor((q * rss.length) / 4), Math.floor(((q + 1) * rss.length) / 4)));
    const quarters = [0, 1, 2, 3].map(quarter);
    const firstHalfMax = Math.max(quarters[0], quarters[1]);
    const secondHalfMax = Math.max(quarters[2], quarters[3]);
    results.load = {
      mix: o.mix,
      clients: o.clients,
      requestsEach: o.requests,
      total,
      errors,
      errorSamples,
      seconds,
      perSecond: total / seconds,
      serverCpuSeconds: cpu,
      serverCpuMsPerRequest: (cpu * 1000) / total,
      p50: percentile(lat, 50),
      p95: percentile(lat, 95),
      p99: percentile(lat, 99),
      max: Math.max(...lat),
      byKind: Object.fromEntries(
        Object.entries(byKind).map(([k, v]) => [k, { n: v.length, p50: percentile(v, 50), p95: percentile(v, 95) }]),
      ),
      rssMb: { before: rss0, quarters, firstHalfMax, secondHalfMax, end: rss.at(-1) },
    };
    results.appear = appear;
    results.loadavg = loadavg();
  } finally {
    d.proc.kill('SIGTERM');
    agent.destroy();
    if (!o.keep) rmSync(base, { recursive: true, force: true });
    else results.keptAt = base;
  }
  const L = results.load;
  results.checks = [
    ['GET /api/runs first page (median, one at a time)', results.apiRunsFirstPage.median, '<=', o.apiMs],
    ['GET / (median, one at a time)', results.runsPage.median, '<=', o.pageMs],
    [`${o.clients} clients x ${o.requests} requests: errors`, L.errors, '<=', 0],
    [`${o.clients} clients x ${o.requests} requests: p95 ms`, L.p95, '<=', o.p95Ms],
    ['RSS growth, second half over first half (MiB)', L.rssMb.secondHalfMax - L.rssMb.firstHalfMax, '<=', o.rssGrowthMb],
    ['new run in GET /api/runs while clients run (ms)', results.appear.listedMs, '<=', o.appearMs],
    ['new run: SSE change at every list watcher (ms)', results.appear.eventMs, '<=', o.appearMs],
  ].map(([what, value, _op, bound]) => ({ what, value, bound, pass: Number.isFinite(value) && value <= bound }));
  results.pass = results.checks.every((c) => c.pass);
  return results;
}

function report(r) {
  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
  const L = r.load;
  console.log(`runs: ${r.runs} (${r.template}; copied in ${f(r.copySeconds)} s)`);
  console.log(
    `start-up: ${r.indexed} runs indexed in ${f(r.indexSeconds, 2)} s; dashboard listening ${f(r.startSeconds, 1)} s after spawn`,
  );
  console.log(`GET /api/runs (first page): median ${f(r.apiRunsFirstPage.median)} ms, max ${f(r.apiRunsFirstPage.max)} ms`);
  console.log(`GET /:                      median ${f(r.runsPage.median)} ms, max ${f(r.runsPage.max)} ms`);
  console.log(
    `load (--mix ${L.mix}): ${L.clients} clients x ${L.requestsEach} = ${L.total} requests in ${f(L.seconds)} s (${f(L.perSecond)}/s), ${L.errors} errors`,
  );
  console.log(
    `  server CPU: ${f(L.serverCpuSeconds)} s over ${f(L.seconds)} s (${f((100 * L.serverCpuSeconds) / L.seconds, 0)}% of one core), ${f(L.serverCpuMsPerRequest)} ms per request`,
  );
  console.log(`  latency ms: p50 ${f(L.p50)}, p95 ${f(L.p95)}, p99 ${f(L.p99)}, max ${f(L.max)}`);
  for (const [k, v] of Object.entries(L.byKind)) console.log(`  ${k.padEnd(10)} n=${v.n} p50 ${f(v.p50)} p95 ${f(v.p95)}`);
  console.log(
    `  server RSS MiB: before ${f(L.rssMb.before)}; max per quarter of the run ${L.rssMb.quarters.map((x) => f(x)).join(', ')}; end ${f(L.rssMb.end)}`,
  );
  for (const s of L.errorSamples) console.log(`  error: ${s}`);
  console.log(
    `new run while ${r.appear.watchers} list watchers and the clients run: in GET /api/runs after ${f(r.appear.listedMs, 0)} ms, SSE change after ${f(r.appear.eventMs, 0)} ms`,
  );
  console.log(`load average (1, 5, 15 min): ${r.loadavg.map((x) => x.toFixed(2)).join(', ')}`);
  for (const c of r.checks) console.log(`${c.pass ? 'PASS' : 'FAIL'}  ${c.what}: ${f(c.value)} (bound ${c.bound})`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  try {
    const o = parseOptions(process.argv.slice(2));
    const r = await runLoadTest(o);
    report(r);
    if (o.json) writeFileSync(o.json, JSON.stringify(r, null, 2));
    process.exit(r.pass ? 0 : 1);
  } catch (e) {
    console.error(`load test: ${e instanceof Error ? e.message : e}`);
    process.exit(2);
  }
}
