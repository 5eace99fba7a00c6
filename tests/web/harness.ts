/**
 * The dashboard under test: the production build served by `apps/web/start.mjs` in a child process, a headless
 * Debian Chromium driven by playwright-core, and a raw HTTP client for requests browsers would normalize.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from 'playwright-core';
import { REPO_ROOT, WEIGHTS_HOME } from '../../test-support/shared';
import { CHROMIUM, CHROMIUM_FLAGS } from '../browser/chromium';

export const ARTIFACTS = join(REPO_ROOT, 'tests', 'web', 'artifacts');
export { CHROMIUM };

export interface Dashboard {
  /** The base URL, without the token (`http://127.0.0.1:<port>`). */
  url: string;
  /** The URL the dashboard printed: `url` + `/?token=…`. */
  loginUrl: string;
  /** The token the harness gave it. */
  token: string;
  /** `Authorization: Bearer <token>`, for API requests. */
  auth: Record<string, string>;
  proc: ChildProcess;
  log: () => string;
  stop: () => Promise<void>;
  /** A raw GET with the token (`rawGet` plus the Authorization header). */
  get: (rawPath: string, headers?: Record<string, string>) => ReturnType<typeof rawGet>;
  /** A raw POST with the token. */
  post: (path: string, headers: Record<string, string>, body: Buffer) => ReturnType<typeof rawPost>;
  /** A browser context that has opened the tokened URL once, as a person would: its cookie opens every page. */
  context: (browser: Browser, options?: BrowserContextOptions) => Promise<BrowserContext>;
}

/**
 * Starts the built dashboard on a free port (loopback unless `args` say `--host`), reading `runsDir`, with a
 * random token (or `FASTTS_DASHBOARD_TOKEN` from `env`).
 */
export async function startServer(runsDir: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<Dashboard> {
  const token = env.FASTTS_DASHBOARD_TOKEN ?? randomBytes(18).toString('base64url');
  const proc = spawn(process.execPath, [join(REPO_ROOT, 'apps', 'web', 'start.mjs'), '--runs', runsDir, '--port', '0', ...args], {
    env: { ...process.env, FASTTS_HOME: WEIGHTS_HOME, NEXT_TELEMETRY_DISABLED: '1', ...env, FASTTS_DASHBOARD_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const [url, loginUrl] = await new Promise<[string, string]>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`dashboard did not start in 240 s:\n${out}`)), 240_000);
    proc.stdout!.on('data', () => {
      const m = /on (http:\/\/[^/\s]+)(\S*)/.exec(out);
      if (m) {
        clearTimeout(t);
        ok([m[1]!.replace('//0.0.0.0:', '//127.0.0.1:'), m[1]!.replace('//0.0.0.0:', '//127.0.0.1:') + m[2]!]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(t);
      fail(new Error(`dashboard exited with ${code}:\n${out}`));
    });
  });
  const auth = { authorization: `Bearer ${token}` };
  return {
    url,
    loginUrl,
    token,
    auth,
    proc,
    log: () => out,
    stop: () =>
      new Promise((ok) => {
        if (proc.exitCode !== null) return ok();
        proc.once('exit', () => ok());
        proc.kill('SIGTERM');
      }),
    get: (rawPath, headers = {}) => rawGet(url, rawPath, { ...auth, ...headers }),
    post: (path, headers, body) => rawPost(url, path, { ...auth, ...headers }, body),
    context: async (browser, options = {}) => {
      const ctx = await browser.newContext(options);
      const p = await ctx.newPage();
      const res = await p.goto(loginUrl);
      if (res?.status() !== 200 || p.url().includes('token='))
        throw new Error(`logging in with the tokened URL failed: ${res?.status()} at ${p.url()}`);
      await p.close();
      return ctx;
    },
  };
}

/**
 * Launches headless Chromium with the browser tests' flags (tests/browser/chromium.ts: WebGPU enabled, no
 * background traffic). A browser rather than one persistent context, so tests can open contexts with their own
 * viewports; playwright gives it a fresh temporary profile.
 */
export async function launchBrowser(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  return {
    browser,
    close: async () => {
      await browser.close();
    },
  };
}

/** A GET with the path sent byte for byte (no normalization of `..` or percent-encoding). */
export function rawGet(
  base: string,
  rawPath: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; type: string; location?: string }> {
  const u = new URL(base);
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: 'GET',
        path: rawPath,
        agent: false,
        headers: { accept: 'text/html,application/json', ...headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
          if (body.length > 2_000_000) res.destroy();
        });
        res.on('end', () =>
          ok({
            status: res.statusCode ?? 0,
            body,
            type: String(res.headers['content-type'] ?? ''),
            ...(res.headers.location ? { location: res.headers.location } : {}),
          }),
        );
        // SSE answers stream forever: read the head, then stop.
        if (String(res.headers['content-type']).startsWith('text/event-stream')) {
          setTimeout(() => {
            res.destroy();
            ok({ status: res.statusCode ?? 0, body, type: 'text/event-stream' });
          }, 300);
        }
      },
    );
    req.on('error', fail);
    req.end();
  });
}

/** Creates the artifacts folder and returns the path for `name`. */
export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/** A POST with the given headers and body, over plain HTTP (so tests can set Origin, Content-Length...). */
export function rawPost(
  base: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((ok, fail) => {
    const req = request(
      { host: u.hostname, port: u.port, method: 'POST', path, agent: false, headers: { host: u.host, ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body: text }));
      },
    );
    // The server may answer (413) and close before the whole body is sent: the answer is what counts. The headers
    // go first and the body only if no early answer came within 250 ms, so that an answer to the headers alone
    // (a Content-Length over the limit) is not lost to a reset while the body is still being written.
    let answered = false;
    req.on('response', () => (answered = true));
    req.on('error', (e) => (answered ? undefined : fail(e)));
    req.flushHeaders();
    setTimeout(() => (answered ? undefined : req.end(body)), 250);
  });
}

/** Encodes multipart/form-data parts (name -> text, or a file's bytes). */
export function multipart(parts: Record<string, string | { bytes: Uint8Array; filename: string }>): {
  type: string;
  body: Buffer;
} {
  const boundary = `----fastts${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const [name, v] of Object.entries(parts)) {
    const file = typeof v === 'string' ? '' : `; filename="${v.filename}"`;
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file}\r\n${typeof v === 'string' ? '' : 'Content-Type: application/octet-stream\r\n'}\r\n`;
    chunks.push(Buffer.from(head), typeof v === 'string' ? Buffer.from(v) : Buffer.from(v.bytes), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { type: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(chunks) };
}
