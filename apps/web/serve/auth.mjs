// @ts-check
/**
 * Token authentication of the dashboard, Jupyter-style, in front of Next.js (start.mjs runs every request through
 * {@link createAuthGate} before the app sees it):
 *
 * - The token is random (32 bytes, base64url) unless given (`FASTTS_DASHBOARD_TOKEN`, `--token`); the start-up
 *   line prints the URL with `?token=…`, and nothing logs it again.
 * - A page visit with the right `?token=` sets an HttpOnly, SameSite=Strict cookie (an HMAC of the token, not the
 *   token) and redirects to the same URL without the token. API clients send `Authorization: Bearer <token>`.
 * - Anything else gets 401: a small "token needed" page (with a field to paste the token) for page visits, JSON
 *   for the rest. Tokens are compared in constant time (both sides hashed, then `timingSafeEqual`).
 * - Wrong tokens (query, header or cookie) are counted per client address; past the limit, every request from that
 *   address gets 429 until the window has passed, right token or not.
 * - The credentials are removed from the request before the app sees it (the `token` query parameter, the
 *   Authorization header, the cookie), so that no page, log line or run file can ever carry them.
 * - Cookie-authenticated requests that change state (not GET/HEAD/OPTIONS) must come from the same origin.
 * - Without authentication (`--no-auth`, loopback only), requests must name a loopback host in `Host`, which
 *   stops DNS-rebinding pages from reading the dashboard.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** The environment variable that gives the token. */
export const TOKEN_ENV = 'FASTTS_DASHBOARD_TOKEN';
/** Failed attempts allowed per address within {@link DEFAULT_WINDOW_MS} before it gets 429. */
export const DEFAULT_FAILURE_LIMIT = 10;
/** The failed-attempt window, and how long an address stays blocked. */
export const DEFAULT_WINDOW_MS = 60_000;
/** How long the login cookie lasts (30 days; a restart with a new random token invalidates it anyway). */
export const COOKIE_MAX_AGE_S = 30 * 24 * 3600;

/** A fresh random token: 32 bytes, base64url (43 characters). */
export function newToken() {
  return randomBytes(32).toString('base64url');
}

/**
 * Checks a token given by the user: printable ASCII without spaces (it goes into URLs and headers), 1-512 chars.
 * @param {string} token
 * @returns {string | null} the problem, or null when it is usable
 */
export function tokenProblem(token) {
  if (token.length === 0) return 'the token is empty';
  if (token.length > 512) return 'the token is longer than 512 characters';
  if (!/^[\x21-\x7e]+$/.test(token)) return 'the token must be printable ASCII without spaces';
  return null;
}

/**
 * True for an address or name that only this machine can reach: `localhost`, 127.0.0.0/8, `::1`.
 * @param {string} host
 */
export function isLoopbackHost(host) {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return h.startsWith('::ffff:127.');
}

/** @param {string} s */
const sha256Hmac = (s, key = 'fastts-dashboard') => createHmac('sha256', key).update(s).digest();

/**
 * Constant-time equality of two secrets of any length (both are hashed first, so neither the content nor the
 * length leaks through timing).
 * @param {string} given
 * @param {string} expected
 */
export function secretsEqual(given, expected) {
  return timingSafeEqual(sha256Hmac(given), sha256Hmac(expected));
}

/**
 * The value the login cookie holds for a token: an HMAC of it, so that the cookie is not the token itself.
 * @param {string} token
 */
export function cookieValue(token) {
  return createHmac('sha256', token).update('fastts-dashboard-cookie-v1').digest('base64url');
}

/** Counts failed attempts per client address in a sliding window; blocks an address that passes the limit. */
export class FailureLimiter {
  /**
   * @param {{ limit?: number, windowMs?: number, maxAddresses?: number }} [opts]
   */
  constructor(opts = {}) {
    this.limit = opts.limit ?? DEFAULT_FAILURE_LIMIT;
    this.windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS;
    this.maxAddresses = opts.maxAddresses ?? 10_000;
    /** @type {Map<string, { fails: number[], blockedUntil: number }>} */
    this.byAddress = new Map();
  }

  /**
   * Seconds until `addr` may try again, or 0 when it is not blocked.
   * @param {string} addr
   * @param {number} [now]
   */
  retryAfter(addr, now = Date.now()) {
    const e = this.byAddress.get(addr);
    return e && e.blockedUntil > now ? Math.ceil((e.blockedUntil - now) / 1000) : 0;
  }

  /**
   * Records a failed attempt; returns true when the address is now blocked.
   * @param {string} addr
   * @param {number} [now]
   */
  fail(addr, now = Date.now()) {
    let e = this.byAddress.get(addr);
    if (!e) {
      if (this.byAddress.size >= this.maxAddresses) this.prune(now);
      e = { fails: [], blockedUntil: 0 };
      this.byAddress.set(addr, e);
    }
    e.fails = e.fails.filter((t) => now - t < this.windowMs);
    e.fails.push(now);
    if (e.fails.length > this.limit) e.blockedUntil = now + this.windowMs;
    return e.blockedUntil > now;
  }

  /**
   * Forgets addresses with nothing recent; when still full, the oldest ones.
   * @param {number} now
   */
  prune(now) {
    for (const [addr, e] of this.byAddress) {
      if (e.blockedUntil <= now && e.fails.every((t) => now - t >= this.windowMs)) this.byAddress.delete(addr);
    }
    for (const addr of this.byAddress.keys()) {
      if (this.byAddress.size < this.maxAddresses) break;
      this.byAddress.delete(addr);
    }
  }
}

/**
 * The value of cookie `name` in a Cookie header, or null.
 * @param {string | undefined} header
 * @param {string} name
 */
export function readCookie(header, name) {
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return null;
}

/**
 * The Cookie header without cookie `name` (undefined when nothing is left).
 * @param {string | undefined} header
 * @param {string} name
 */
function withoutCookie(header, name) {
  if (!header) return undefined;
  const rest = header.split(';').filter((p) => p.split('=')[0]?.trim() !== name);
  return rest.length ? rest.join(';').trim() : undefined;
}

/**
 * True when the request is a browser navigating to a page (not fetch, EventSource, an image or an API client).
 * @param {import('node:http').IncomingMessage} req
 */
function isNavigation(req) {
  const mode = req.headers['sec-fetch-mode'];
  if (mode) return mode === 'navigate';
  return String(req.headers.accept ?? '').includes('text/html');
}

/** @param {string} s */
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The small page shown instead of the dashboard without a valid token.
 * @param {string} title
 * @param {string} message
 * @param {boolean} form show the field to paste the token into
 */
function page(title, message, form) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · fastts</title>
<style>body{font-family:'DejaVu Sans',system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#111827}
code{background:#f3f4f6;padding:0 .2rem;border-radius:3px}input{font:inherit;padding:.35rem .5rem;width:100%;box-sizing:border-box;margin:.4rem 0}
button{font:inherit;padding:.35rem .8rem}</style></head><body data-testid="auth-page">
<h1>${escapeHtml(title)}</h1><p>${message}</p>${
    form
      ? `<form method="get"><label>Token<input name="token" type="password" autocomplete="current-password" autofocus required data-testid="auth-token"></label><button type="submit">Open the dashboard</button></form>`
      : ''
  }</body></html>`;
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
};

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {import('node:http').IncomingMessage} req
 * @param {{ title: string, html: string, json: string, form?: boolean, headers?: Record<string, string | string[]> }} body
 */
function answer(res, status, req, body) {
  const headers = { ...(body.headers ?? {}) };
  if (isNavigation(req)) {
    res.writeHead(status, { ...PAGE_HEADERS, ...headers });
    res.end(req.method === 'HEAD' ? undefined : page(body.title, body.html, body.form ?? false));
  } else {
    res.writeHead(status, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...headers,
    });
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ error: body.json }));
  }
}

/**
 * Whether a request comes from a page of this same origin (`Sec-Fetch-Site`, else `Origin` against `Host`).
 * @param {import('node:http').IncomingMessage} req
 */
function sameOrigin(req) {
  const site = req.headers['sec-fetch-site'];
  if (site) return site === 'same-origin';
  const origin = req.headers.origin;
  const host = req.headers.host;
  return origin !== undefined && host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}

/**
 * A request gate: call it first for every request; it returns true when the request may go on to the app (with
 * the credentials removed), false when it has answered (401, 403, 429, or the redirect that sets the cookie).
 *
 * @param {{ token: string | null, cookieName: string, limiter?: FailureLimiter }} opts `token: null` turns
 *   authentication off (loopback only: requests must then name a loopback host)
 * @returns {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => boolean}
 */
export function createAuthGate({ token, cookieName, limiter = new FailureLimiter() }) {
  if (token === null) {
    return (req, res) => {
      const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
      if (isLoopbackHost(host)) return true;
      answer(res, 403, req, {
        title: 'Wrong host',
        html: 'This dashboard runs without authentication, so it only answers requests for <code>127.0.0.1</code> or <code>localhost</code>.',
        json: 'this dashboard runs without authentication and only answers requests for 127.0.0.1 or localhost',
      });
      return false;
    };
  }
  const expectedCookie = cookieValue(token);
  const unauthorized = {
    title: 'Token needed',
    html: 'This fastts dashboard needs its token. Open the URL with <code>?token=…</code> that <code>fastts dashboard</code> printed when it started, or paste the token here.',
    json: 'authentication required: open the URL with ?token=... that the dashboard printed, or send Authorization: Bearer <token>',
    form: true,
    headers: { 'www-authenticate': 'Bearer realm="fastts dashboard"' },
  };
  return (req, res) => {
    const addr = req.socket.remoteAddress ?? 'unknown';
    const wait = limiter.retryAfter(addr);
    if (wait > 0) {
      answer(res, 429, req, {
        title: 'Too many attempts',
        html: `Too many wrong tokens from this address. Try again in ${wait} s.`,
        json: `too many wrong tokens from this address: try again in ${wait} s`,
        headers: { 'retry-after': String(wait) },
      });
      return false;
    }
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const queryToken = url.searchParams.get('token');
    const auth = req.headers.authorization;
    const bearer = auth && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '').trim() : null;
    const cookie = readCookie(req.headers.cookie, cookieName);
    const secure = req.headers['x-forwarded-proto'] === 'https' || /** @type {any} */ (req.socket).encrypted === true;
    const cookieAttrs = `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;

    /** @param {string} given */
    const check = (given) => {
      if (secretsEqual(given, token)) return true;
      limiter.fail(addr);
      return false;
    };
    let ok = false;
    let viaCookie = false;
    /** @type {string | undefined} */
    let clearCookie;
    if (queryToken !== null) ok = check(queryToken);
    else if (bearer !== null) ok = check(bearer);
    else if (cookie !== null) {
      ok = secretsEqual(cookie, expectedCookie);
      viaCookie = ok;
      if (!ok) {
        limiter.fail(addr);
        clearCookie = `${cookieName}=; ${cookieAttrs}; Max-Age=0`; // a stale cookie (new token) counts once
      }
    }
    if (!ok) {
      answer(
        res,
        401,
        req,
        clearCookie ? { ...unauthorized, headers: { ...unauthorized.headers, 'set-cookie': clearCookie } } : unauthorized,
      );
      return false;
    }
    if (queryToken !== null) {
      url.searchParams.delete('token');
      const clean = url.pathname + (url.search === '?' ? '' : url.search);
      if ((req.method === 'GET' || req.method === 'HEAD') && isNavigation(req)) {
        const setCookie = `${cookieName}=${expectedCookie}; ${cookieAttrs}; Max-Age=${COOKIE_MAX_AGE_S}`;
        const site = req.headers['sec-fetch-site'];
        if (site === 'cross-site' || site === 'same-site') {
          // Arriving from another site, a redirect would still count as cross-site and the Strict cookie would
          // not be sent with it: a page of our own that moves on makes the next request same-site.
          res.writeHead(200, { ...PAGE_HEADERS, 'set-cookie': setCookie });
          res.end(
            `<!doctype html><meta http-equiv="refresh" content="0;url=${escapeHtml(clean)}"><a href="${escapeHtml(clean)}">Open the dashboard</a>`,
          );
        } else {
          res.writeHead(302, {
            location: clean,
            'set-cookie': setCookie,
            'cache-control': 'no-store',
            'referrer-policy': 'no-referrer',
          });
          res.end();
        }
        return false;
      }
      req.url = clean;
    }
    if (viaCookie && !['GET', 'HEAD', 'OPTIONS'].includes(req.method ?? 'GET') && !sameOrigin(req)) {
      answer(res, 403, req, {
        title: 'Refused',
        html: 'Changes are accepted only from the dashboard itself.',
        json: 'requests that change something are accepted only from the dashboard itself (same origin)',
      });
      return false;
    }
    delete req.headers.authorization;
    const rest = withoutCookie(req.headers.cookie, cookieName);
    if (rest === undefined) delete req.headers.cookie;
    else req.headers.cookie = rest;
    return true;
  };
}
