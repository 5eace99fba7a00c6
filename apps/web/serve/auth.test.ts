import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieValue, createAuthGate, FailureLimiter, isLoopbackHost, readCookie, secretsEqual, tokenProblem } from './auth.mjs';

const TOKEN = 'correct-horse-battery-staple';
const COOKIE = 'fastts_dashboard_test';

/** What the app behind the gate saw. */
interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let noAuthServer: Server;
let limiter: FailureLimiter;
let seen: Seen | null = null;

function serve(gate: ReturnType<typeof createAuthGate>): Promise<Server> {
  const s = createServer((req, res) => {
    if (!gate(req, res)) return;
    seen = { url: req.url ?? '', headers: req.headers };
    res.writeHead(200, { 'content-type': 'text/plain' }).end('app');
  });
  return new Promise((ok) => s.listen(0, '127.0.0.1', () => ok(s)));
}

function send(s: Server, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  const { port } = s.address() as AddressInfo;
  seen = null;
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

const navigate = { 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'none', accept: 'text/html' };

beforeAll(async () => {
  limiter = new FailureLimiter({ limit: 5, windowMs: 60_000 });
  server = await serve(createAuthGate({ token: TOKEN, cookieName: COOKIE, limiter }));
  noAuthServer = await serve(createAuthGate({ token: null, cookieName: COOKIE }));
});
afterAll(() => {
  server.close();
  noAuthServer.close();
});

describe('the token gate', () => {
  it('answers 401 without a token: a "token needed" page for page visits, JSON for the rest', async () => {
    const page = await send(server, '/runs/x', navigate);
    expect(page.status).toBe(401);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('Token needed');
    expect(page.body).toContain('name="token"');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    const api = await send(server, '/api/runs');
    expect(api.status).toBe(401);
    expect(api.headers['www-authenticate']).toBe('Bearer realm="fastts dashboard"');
    expect(JSON.parse(api.body).error).toContain('Authorization: Bearer');
    expect(seen).toBeNull();
  });

  it('lets a Bearer token through and hides it from the app', async () => {
    const r = await send(server, '/api/runs?page=2', { authorization: `Bearer ${TOKEN}`, cookie: 'theme=dark' });
    expect(r.status).toBe(200);
    expect(seen!.url).toBe('/api/runs?page=2');
    expect(seen!.headers.authorization).toBeUndefined();
    expect(seen!.headers.cookie).toBe('theme=dark');
  });

  it('turns ?token= on a page visit into a cookie (HttpOnly, SameSite=Strict, not the token itself) and a redirect without it', async () => {
    const r = await send(server, `/runs/x?sort=accuracy&token=${TOKEN}&page=2`, navigate);
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('/runs/x?sort=accuracy&page=2');
    const cookie = r.headers['set-cookie']![0]!;
    expect(cookie).toMatch(new RegExp(`^${COOKIE}=[^;]+; Path=/; HttpOnly; SameSite=Strict; Max-Age=\\d+$`));
    expect(cookie).not.toContain(TOKEN);
    expect(seen).toBeNull();
    // The cookie then opens every page and API route, and never reaches the app.
    const value = readCookie(cookie.split(';')[0], COOKIE)!;
    expect(value).toBe(cookieValue(TOKEN));
    const next = await send(server, '/runs/x', { ...navigate, cookie: `a=1; ${COOKIE}=${value}; b=2` });
    expect(next.status).toBe(200);
    expect(seen!.headers.cookie).toBe('a=1; b=2');
    expect((await send(server, '/api/runs', { cookie: `${COOKIE}=${value}` })).status).toBe(200);
  });

  it('arriving from another site, answers with a page that moves on (a redirect would not carry the Strict cookie)', async () => {
    const r = await send(server, `/?token=${TOKEN}`, { ...navigate, 'sec-fetch-site': 'cross-site' });
    expect(r.status).toBe(200);
    expect(r.headers['set-cookie']![0]).toContain('SameSite=Strict');
    expect(r.body).toContain('http-equiv="refresh" content="0;url=/"');
  });

  it('marks the cookie Secure behind a TLS proxy', async () => {
    const r = await send(server, `/?token=${TOKEN}`, { ...navigate, 'x-forwarded-proto': 'https' });
    expect(r.headers['set-cookie']![0]).toContain('; Secure');
  });

  it('accepts ?token= on API requests without redirecting, and strips it', async () => {
    const r = await send(server, `/api/runs?token=${encodeURIComponent(TOKEN)}&limit=5`);
    expect(r.status).toBe(200);
    expect(seen!.url).toBe('/api/runs?limit=5');
  });

  it('keeps the same-origin check for cookie-authenticated changes', async () => {
    const cookie = `${COOKIE}=${cookieValue(TOKEN)}`;
    expect((await send(server, '/api/runs', { cookie, 'sec-fetch-site': 'cross-site' }, 'POST')).status).toBe(403);
    expect((await send(server, '/api/runs', { cookie, origin: 'http://evil.example', host: 'dash:3000' }, 'POST')).status).toBe(
      403,
    );
    expect((await send(server, '/api/runs', { cookie, 'sec-fetch-site': 'same-origin' }, 'POST')).status).toBe(200);
    expect((await send(server, '/api/runs', { authorization: `Bearer ${TOKEN}` }, 'POST')).status).toBe(200);
  });

  it('clears a stale cookie (a restart with a new token) once', async () => {
    const r = await send(server, '/', { ...navigate, cookie: `${COOKIE}=stale` });
    expect(r.status).toBe(401);
    expect(r.headers['set-cookie']![0]).toMatch(new RegExp(`^${COOKIE}=; .*Max-Age=0$`));
  });

  // Last: it blocks this client's address.
  it('answers 429 to an address past the limit of wrong tokens, even with the right token then', async () => {
    const before = limiter.byAddress.get('127.0.0.1')?.fails.length ?? 0; // the stale cookie above counted once
    for (let i = before; i <= 5; i++)
      expect((await send(server, '/api/runs', { authorization: `Bearer wrong-${i}` })).status).toBe(401);
    const blocked = await send(server, '/api/runs', { authorization: `Bearer ${TOKEN}` });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(50);
    expect(JSON.parse(blocked.body).error).toMatch(/too many wrong tokens from this address: try again in \d+ s/);
    const page = await send(server, `/?token=${TOKEN}`, navigate);
    expect(page.status).toBe(429);
    expect(page.body).toContain('Too many attempts');
  });
});

describe('without authentication (loopback only)', () => {
  it('answers requests for a loopback host, and refuses other Host names (DNS rebinding)', async () => {
    const { port } = noAuthServer.address() as AddressInfo;
    expect((await send(noAuthServer, '/api/runs', { host: `127.0.0.1:${port}` })).status).toBe(200);
    expect((await send(noAuthServer, '/api/runs', { host: `localhost:${port}` })).status).toBe(200);
    expect((await send(noAuthServer, '/api/runs', { host: `[::1]:${port}` })).status).toBe(200);
    const r = await send(noAuthServer, '/api/runs', { host: `attacker.example:${port}` });
    expect(r.status).toBe(403);
    expect(seen).toBeNull();
  });
});

describe('FailureLimiter', () => {
  it('blocks past the limit within the window, and forgets after it', () => {
    const l = new FailureLimiter({ limit: 3, windowMs: 1000 });
    const t = 1_000_000;
    expect([l.fail('a', t), l.fail('a', t + 1), l.fail('a', t + 2)]).toEqual([false, false, false]);
    expect(l.retryAfter('a', t + 3)).toBe(0);
    expect(l.fail('a', t + 3)).toBe(true);
    expect(l.retryAfter('a', t + 4)).toBe(1);
    expect(l.retryAfter('b', t + 4)).toBe(0);
    expect(l.retryAfter('a', t + 1004)).toBe(0);
    // Spread-out failures never block.
    for (let i = 0; i < 10; i++) expect(l.fail('c', t + i * 600)).toBe(false);
  });

  it('keeps a bounded number of addresses', () => {
    const l = new FailureLimiter({ limit: 3, windowMs: 1000, maxAddresses: 100 });
    for (let i = 0; i < 1000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`, 5000);
    expect(l.byAddress.size).toBeLessThanOrEqual(100);
  });
});

describe('helpers', () => {
  it('compares secrets of any length', () => {
    expect(secretsEqual(TOKEN, TOKEN)).toBe(true);
    expect(secretsEqual(TOKEN, `${TOKEN}x`)).toBe(false);
    expect(secretsEqual('', TOKEN)).toBe(false);
  });
  it('tells loopback hosts apart', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', 'app.localhost', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.2', 'example.com', '128.0.0.1', 'localhost.example.com'])
      expect(isLoopbackHost(h), h).toBe(false);
  });
  it('checks given tokens', () => {
    expect(tokenProblem('t0ken')).toBeNull();
    expect(tokenProblem('')).toBe('the token is empty');
    expect(tokenProblem('has space')).toBe('the token must be printable ASCII without spaces');
    expect(tokenProblem('x'.repeat(513))).toBe('the token is longer than 512 characters');
  });
});
