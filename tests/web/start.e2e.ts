/**
 * `startDashboard()` — the entry `fastts dashboard` calls — in process: loopback by default, a free port with
 * `port: 0`, the runs directory it was given, a token (random, given, or from the environment; none only on
 * loopback), clear errors for a bad or busy port or option, and a clean close.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEIGHTS_HOME } from '../../test-support/shared';
import { makeFakeRun } from './fakeRun';

type StartModule = typeof import('../../apps/web/start.mjs');

let base: string;
let mod: StartModule;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'fastts-web-start-'));
  mkdirSync(join(base, 'runs'));
  await makeFakeRun(join(base, 'runs'), 'r1', { epochs: 1 });
  mod = await import('../../apps/web/start.mjs');
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('startDashboard', () => {
  it('serves the given runs directory on 127.0.0.1 and closes cleanly', async () => {
    expect(mod.isBuilt()).toBe(true);
    const d = await mod.startDashboard({ runsDir: join(base, 'runs'), port: 0, home: WEIGHTS_HOME, build: false });
    try {
      expect(d.host).toBe('127.0.0.1');
      expect((d.server.address() as AddressInfo).address).toBe('127.0.0.1');
      expect(d.url).toBe(`http://127.0.0.1:${d.port}`);
      // A random token by default (32 bytes, base64url), in the URL to open.
      expect(d.auth).toBe(true);
      expect(d.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(d.loginUrl).toBe(`${d.url}/?token=${d.token}`);
      expect(d.indexed).toMatchObject({ runs: 1 });
      expect((await fetch(`${d.url}/api/runs`)).status).toBe(401);
      const auth = { authorization: `Bearer ${d.token}` };
      const list = (await (await fetch(`${d.url}/api/runs`, { headers: auth })).json()) as { runs: { id: string }[] };
      expect(list.runs.map((r) => r.id)).toEqual(['r1']);
      const page = await fetch(d.url, { headers: auth });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('r1');
    } finally {
      await d.close();
    }
    await expect(fetch(`${d.url}/api/runs`)).rejects.toThrow();
  });

  it('takes the token from the options, else FASTTS_DASHBOARD_TOKEN; serves without one only on loopback', async () => {
    const d = await mod.startDashboard({ runsDir: join(base, 'runs'), port: 0, build: false, token: 'given-token-123456' });
    try {
      expect(d.token).toBe('given-token-123456');
      expect((await fetch(`${d.url}/api/runs`, { headers: { authorization: 'Bearer given-token-123456' } })).status).toBe(200);
    } finally {
      await d.close();
    }
    const old = process.env.FASTTS_DASHBOARD_TOKEN;
    process.env.FASTTS_DASHBOARD_TOKEN = 'from-the-environment';
    try {
      const e = await mod.startDashboard({ runsDir: join(base, 'runs'), port: 0, build: false });
      expect(e.token).toBe('from-the-environment');
      await e.close();
    } finally {
      if (old === undefined) delete process.env.FASTTS_DASHBOARD_TOKEN;
      else process.env.FASTTS_DASHBOARD_TOKEN = old;
    }
    const open = await mod.startDashboard({ runsDir: join(base, 'runs'), port: 0, build: false, noAuth: true });
    try {
      expect(open).toMatchObject({ auth: false, token: null, loginUrl: open.url });
      expect((await fetch(`${open.url}/api/runs`)).status).toBe(200);
    } finally {
      await open.close();
    }
    await expect(mod.startDashboard({ host: '0.0.0.0', port: 0, build: false, auth: false })).rejects.toThrow(
      '--no-auth is allowed only on a loopback host (127.0.0.1, ::1, localhost): on 0.0.0.0 anyone who can reach the port could use the dashboard',
    );
    await expect(mod.startDashboard({ port: 0, build: false, token: 'has space' })).rejects.toThrow(
      'the token must be printable ASCII without spaces',
    );
    await expect(mod.startDashboard({ port: 0, build: false, token: 'x', noAuth: true })).rejects.toThrow(
      '--token and --no-auth contradict each other',
    );
  });

  it('parses the command line into the same options', () => {
    expect(mod.parseArgs(['--runs', 'r', '--port=8080', '--host', '0.0.0.0', '--token', 't0ken', '--home', 'h'])).toEqual({
      runsDir: 'r',
      port: 8080,
      host: '0.0.0.0',
      token: 't0ken',
      home: 'h',
    });
    expect(mod.parseArgs(['--no-auth'])).toEqual({ noAuth: true });
    expect(() => mod.parseArgs(['--token'])).toThrow('--token needs a value');
    expect(() => mod.parseArgs(['--token', '--no-auth'])).toThrow('--token needs a value');
    expect(() => mod.parseArgs(['--auth'])).toThrow('unknown option --auth');
  });

  it('says which port is busy, and refuses an invalid port', async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await expect(mod.startDashboard({ runsDir: join(base, 'runs'), port, build: false })).rejects.toThrow(
        `port ${port} on 127.0.0.1 is in use: pick another with --port`,
      );
    } finally {
      blocker.close();
    }
    await expect(mod.startDashboard({ port: 70000, build: false })).rejects.toBeInstanceOf(mod.DashboardStartError);
  });
});
