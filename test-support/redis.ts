/**
 * A real `redis-server` (Debian's package) for tests of the work queue: started on a free 127.0.0.1 port with its
 * files in a temporary folder, no persistence, stopped (and the folder removed) by `stop()`. `restart()` stops it
 * and starts it again on the same port (a Redis restart as workers see it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running test Redis. */
export interface TestRedis {
  port: number;
  /** `redis://127.0.0.1:<port>` (`rediss://:<password>@...` with a password and TLS) */
  url: string;
  /** With TLS: the self-signed certificate clients must trust (`NODE_EXTRA_CA_CERTS`). */
  caFile?: string;
  /** Stops the server (it can be started again with {@link TestRedis.start}). */
  kill(): Promise<void>;
  /** Starts it (again) on the same port. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

/** Whether `redis-server` is installed. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => ok(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port (or rejects after `timeoutMs`). */
async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = new Socket();
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
      sock.connect(port, '127.0.0.1');
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Options of {@link startRedis}. */
export interface RedisOptions {
  /** Require this password (`requirepass`). */
  password?: string;
  /** Serve TLS only, with a self-signed certificate for 127.0.0.1 (made with openssl). */
  tls?: boolean;
}

/** Starts a redis-server for a test (throws a clear error when it is not installed). */
export async function startRedis(options: RedisOptions = {}): Promise<TestRedis> {
  if (!hasRedisServer()) throw new Error('redis-server not found: apt-get install -y redis-server (.ci/run installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'fastts-redis-'));
  const port = await freePort();
  const extra: string[] = [];
  if (options.password) extra.push('--requirepass', options.password);
  const caFile = options.tls ? join(dir, 'cert.pem') : undefined;
  if (caFile) {
    const key = join(dir, 'key.pem');
    const subj = ['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'];
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', caFile, '-days', '1', ...subj],
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(`openssl could not make a test certificate: ${made.stderr}`);
    extra.push(
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--tls-cert-file',
      caFile,
      '--tls-key-file',
      key,
      '--tls-ca-cert-file',
      caFile,
      '--tls-auth-clients',
      'no',
    );
  }
  let proc: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    log = '';
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...extra],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    proc.stdout!.on('data', (d) => (log += d));
    proc.stderr!.on('data', (d) => (log += d));
    try {
      await waitForPort(port);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${log}`);
    }
  };
  const kill = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((ok) => {
      p.once('exit', () => ok());
      p.kill('SIGTERM');
    });
  };
  await start();
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    port,
    url: `${options.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`,
    ...(caFile ? { caFile } : {}),
    kill,
    start,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
