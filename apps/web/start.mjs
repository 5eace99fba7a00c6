#!/usr/bin/env node
/**
 * Starts the fastts dashboard: the production build of this Next.js app, served by Node on loopback.
 *
 *   import { startDashboard } from '@fastts/web';
 *   const d = await startDashboard({ runsDir: 'runs', port: 3000, host: '127.0.0.1' });
 *   console.log(d.url); ... await d.close();
 *
 * or from a shell: `node apps/web/start.mjs [--runs runs] [--port 3000] [--host 127.0.0.1] [--home ~/.cache/fastts]
 * [--token <token>] [--no-auth]` (the root `npm run dashboard -- --runs runs` does that). The app reads `FASTTS_RUNS`
 * and `FASTTS_HOME` on every request; this sets them from the options. Builds the app first when no build exists.
 *
 * Every request first goes through the token gate of serve/auth.mjs: a random token (or `FASTTS_DASHBOARD_TOKEN`,
 * or `--token`) printed once in the start-up URL; `--no-auth` only on a loopback host.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createAuthGate, isLoopbackHost, newToken, TOKEN_ENV, tokenProblem } from './serve/auth.mjs';

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
  const r = spawnSync(process.execPath, [nextBin, 'build'], {
    cwd: APP_DIR,
    stdio: ['ignore', 2, 2],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (r.status !== 0)
    throw new DashboardStartError(
      `building the dashboard failed (exit ${r.status}): run \`npm run build -w @fastts/web\` to see why`,
    );
}

/**
 * Serves the dashboard: builds the runs index, then listens; every request passes the token gate first.
 * The options (runsDir, port, host, home, build, token, auth / noAuth) are documented in start.d.mts.
 * @param {import('./start.d.mts').StartDashboardOptions} [opts]
 * @returns {Promise<import('./start.d.mts').Dashboard>}
 */
export async function startDashboard(opts = {}) {
  const runsDir = resolve(opts.runsDir ?? process.env.FASTTS_RUNS ?? 'runs');
  const port = opts.port ?? 3000;
  const host = opts.host ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DashboardStartError(`invalid port ${port}: use 0..65535`);
  const token = resolveToken(opts, host);
  process.env.FASTTS_RUNS = runsDir;
  // The Queue page: the Redis of the workers (its password stays in this process) and the data sets' folder.
  const redis = opts.redis ?? process.env.FASTTS_REDIS_URL;
  if (redis) {
    if (!/^rediss?:\/\//.test(redis)) throw new DashboardStartError('--redis must be a redis:// or rediss:// URL');
    process.env.FASTTS_REDIS_URL = redis;
  }
  if (opts.dataRoot) process.env.FASTTS_DATA_ROOT = resolve(opts.dataRoot);
  if (opts.home) process.env.FASTTS_HOME = resolve(opts.home);
  process.env.NEXT_TELEMETRY_DISABLED = '1';
  if (!isBuilt()) {
    if (opts.build === false)
      throw new DashboardStartError('the dashboard is not built: run `npm run build -w @fastts/web` first');
    console.error('fastts dashboard: no build found, building it once (a minute or two)…');
    buildDashboard();
  }
  // @ts-expect-error -- NODE_ENV is read-only in the types; Next's production server needs it set
  process.env.NODE_ENV = 'production';
  const { default: next } = await import('next');
  const app = next({ dev: false, dir: APP_DIR, hostname: host, port, quiet: true });
  await app.prepare();
  const handler = app.getRequestHandler();
  /** @type {((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => boolean) | null} */
  let gate = null; // set once the port is known (the cookie is named after it)
  const server = createServer((req, res) => {
    if (!gate || !gate(req, res)) {
      if (!gate) res.writeHead(503).end();
      return;
    }
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
  // Cookies are not per port: the name carries it, so dashboards on one host do not overwrite each other's.
  gate = createAuthGate({ token, cookieName: `fastts_dashboard_${actualPort}` });
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${actualPort}`;
  const indexed = await warmUp(host, actualPort, token);
  return {
    url,
    loginUrl: token === null ? url : `${url}/?token=${encodeURIComponent(token)}`,
    token,
    auth: token !== null,
    indexed,
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

/**
 * Builds the runs index before anyone asks: one request to the app through the server just started (Next.js
 * loads the app's server code on the first request), then the index's own count and timing.
 * @param {string} host
 * @param {number} port
 * @param {string | null} token
 * @returns {Promise<{ runs: number, seconds: number } | null>}
 */
async function warmUp(host, port, token) {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  try {
    const res = await fetch(`http://${h}:${port}/api/runs?limit=1`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    await res.arrayBuffer();
  } catch {
    return null; // the first visitor then builds it
  }
  const index = /** @type {any} */ (globalThis)[Symbol.for('fastts.dashboard.runsIndex')];
  const stats = index?.stats?.();
  return stats ? { runs: stats.runs, seconds: stats.indexedInMs / 1000 } : null;
}

/**
 * The token to require, or null without authentication (loopback only).
 * @param {{ token?: string, auth?: boolean, noAuth?: boolean }} opts
 * @param {string} host
 * @returns {string | null}
 */
function resolveToken(opts, host) {
  const off = opts.auth === false || opts.noAuth === true;
  if (off) {
    if (!isLoopbackHost(host)) {
      throw new DashboardStartError(
        `--no-auth is allowed only on a loopback host (127.0.0.1, ::1, localhost): on ${host} anyone who can reach the port could use the dashboard`,
      );
    }
    if (opts.token !== undefined) throw new DashboardStartError('--token and --no-auth contradict each other: use one');
    return null;
  }
  const fromEnv = process.env[TOKEN_ENV];
  const token = opts.token ?? (fromEnv ? fromEnv : newToken());
  const problem = tokenProblem(token);
  if (problem)
    throw new DashboardStartError(
      `${problem}: use a long random string of letters and digits (${opts.token !== undefined ? '--token' : TOKEN_ENV})`,
    );
  if (token.length < 16)
    console.error(
      `fastts dashboard: warning: the token is short (${token.length} characters): use a long random one where others can reach the port`,
    );
  return token;
}

/**
 * Parses the command line into {@link startDashboard}'s options.
 * @param {string[]} argv
 */
export function parseArgs(argv) {
  /** @type {import('./start.d.mts').StartDashboardOptions & { help?: boolean }} */
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const [k, inline] = a.includes('=') ? a.split(/=(.*)/s, 2) : [a, undefined];
    const val = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new DashboardStartError(`${k} needs a value`);
      return v;
    };
    if (k === '--runs') o.runsDir = val();
    else if (k === '--port') o.port = Number(val());
    else if (k === '--host') o.host = val();
    else if (k === '--home') o.home = val();
    else if (k === '--token') o.token = val();
    else if (k === '--redis') o.redis = val();
    else if (k === '--data-root') o.dataRoot = val();
    else if (k === '--no-auth' && inline === undefined) o.noAuth = true;
    else if (k === '--help' || k === '-h') o.help = true;
    else
      throw new DashboardStartError(
        `unknown option ${a}: use --runs <dir>, --port <n>, --host <addr>, --home <dir>, --token <token>, --no-auth, --redis <url>, --data-root <dir>`,
      );
  }
  return o;
}

const USAGE = `usage: fastts-dashboard [--runs runs] [--port 3000] [--host 127.0.0.1] [--home <FASTTS_HOME>] [--token <token>] [--no-auth]
                        [--redis <url>] [--data-root <dir>]

  --token <token>  the access token (default: $${TOKEN_ENV}, else a random one); prefer the variable, since
                   other users of this machine can read command lines
  --no-auth        no token (only with a loopback --host)
  --redis <url>    the Redis of the fastts workers (default $FASTTS_REDIS_URL): a Queue page of their jobs
  --data-root <dir> the folder whose sub-folders the Queue page can submit as training data sets

Prints the URL to open, with ?token=...; API clients send "Authorization: Bearer <token>".`;

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const o = parseArgs(process.argv.slice(2));
    if (o.help) {
      console.log(USAGE);
      process.exit(0);
    }
    const d = await startDashboard(o);
    // The only line that ever shows the token.
    const indexed = d.indexed ? `; ${d.indexed.runs} runs indexed in ${d.indexed.seconds.toFixed(2)} s` : '';
    console.log(
      `fastts dashboard on ${d.loginUrl} (runs: ${d.runsDir}${indexed}${d.auth ? '' : '; no authentication, loopback only'})`,
    );
    const stop = () => d.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } catch (e) {
    console.error(`fastts dashboard: ${e instanceof Error ? e.message : e}`);
    process.exit(e instanceof DashboardStartError ? 2 : 1);
  }
}
