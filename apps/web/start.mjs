#!/usr/bin/env node
/**
 * Starts the fastts dashboard: the production build of this Next.js app, served by Node on loopback.
 *
 *   import { startDashboard } from '@fastts/web';
 *   const d = await startDashboard({ runsDir: 'runs', port: 3000, host: '127.0.0.1' });
 *   console.log(d.url); ... await d.close();
 *
 * or from a shell: `node apps/web/start.mjs [--runs runs] [--port 3000] [--host 127.0.0.1] [--home ~/.cache/fastts]`
 * (the root `npm run dashboard -- --runs runs` does that). The app reads `FASTTS_RUNS` and `FASTTS_HOME` on
 * every request; this sets them from the options. Builds the app first when no build exists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const APP_DIR = dirname(fileURLToPath(import.meta.url));

/** Thrown for a bad option or an app that cannot be built; its message says what to do. */
export class DashboardStartError extends Error {
  constructor(message) {
    super(message);
    this.name = 'DashboardStartError';
  }
}

/** True when a production build of the app exists. */
export function isBuilt() {
  return existsSync(join(APP_DIR, '.next', 'BUILD_ID'));
}

/** Builds the app (`next build`), printing its output to stderr. */
export function buildDashboard() {
  const nextBin = fileURLToPath(import.meta.resolve('next/dist/bin/next'));
  const r = spawnSync(process.execPath, [nextBin, 'build'], { cwd: APP_DIR, stdio: ['ignore', 2, 2], env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
  if (r.status !== 0) throw new DashboardStartError(`building the dashboard failed (exit ${r.status}): run \`npm run build -w @fastts/web\` to see why`);
}

/**
 * Serves the dashboard.
 * @param {object} [opts]
 * @param {string} [opts.runsDir] the runs directory the CLI writes (default `FASTTS_RUNS` or `./runs`)
 * @param {number} [opts.port] TCP port (default 3000; 0 picks a free one)
 * @param {string} [opts.host] interface to listen on (default 127.0.0.1: loopback only)
 * @param {string} [opts.home] FASTTS_HOME, whose `models/` weight cache the in-browser training reads
 * @param {boolean} [opts.build] build first when no build exists (default true)
 * @returns {Promise<{ url: string, port: number, host: string, runsDir: string, server: import('node:http').Server, close: () => Promise<void> }>}
 */
export async function startDashboard(opts = {}) {
  const runsDir = resolve(opts.runsDir ?? process.env.FASTTS_RUNS ?? 'runs');
  const port = opts.port ?? 3000;
  const host = opts.host ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DashboardStartError(`invalid port ${port}: use 0..65535`);
  process.env.FASTTS_RUNS = runsDir;
  if (opts.home) process.env.FASTTS_HOME = resolve(opts.home);
  process.env.NEXT_TELEMETRY_DISABLED = '1';
  if (!isBuilt()) {
    if (opts.build === false) throw new DashboardStartError('the dashboard is not built: run `npm run build -w @fastts/web` first');
    console.error('fastts dashboard: no build found, building it once (a minute or two)…');
    buildDashboard();
  }
  // @ts-ignore -- assignment for Next's production server
  process.env.NODE_ENV = 'production';
  const { default: next } = await import('next');
  const app = next({ dev: false, dir: APP_DIR, hostname: host, port, quiet: true });
  await app.prepare();
  const handler = app.getRequestHandler();
  const server = createServer((req, res) => {
    handler(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error');
    });
  });
  await new Promise((ok, fail) => {
    server.once('error', (e) =>
      fail(e.code === 'EADDRINUSE' ? new DashboardStartError(`port ${port} on ${host} is in use: pick another with --port`) : e),
    );
    server.listen(port, host, () => ok(undefined));
  });
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${actualPort}`,
    port: actualPort,
    host,
    runsDir,
    server,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok(undefined));
      }),
  };
}

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [k, inline] = a.includes('=') ? a.split(/=(.*)/s, 2) : [a, undefined];
    const val = () => inline ?? argv[++i];
    if (k === '--runs') o.runsDir = val();
    else if (k === '--port') o.port = Number(val());
    else if (k === '--host') o.host = val();
    else if (k === '--home') o.home = val();
    else if (k === '--help' || k === '-h') o.help = true;
    else throw new DashboardStartError(`unknown option ${a}: use --runs <dir>, --port <n>, --host <addr>, --home <dir>`);
  }
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const o = parseArgs(process.argv.slice(2));
    if (o.help) {
      console.log('usage: fastts-dashboard [--runs runs] [--port 3000] [--host 127.0.0.1] [--home <FASTTS_HOME>]');
      process.exit(0);
    }
    const d = await startDashboard(o);
    console.log(`fastts dashboard on ${d.url} (runs: ${d.runsDir})`);
    const stop = () => d.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } catch (e) {
    console.error(`fastts dashboard: ${e instanceof Error ? e.message : e}`);
    process.exit(e instanceof DashboardStartError ? 2 : 1);
  }
}
