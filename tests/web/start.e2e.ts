/**
 * `startDashboard()` — the entry `fastts dashboard` calls — in process: loopback by default, a free port with
 * `port: 0`, the runs directory it was given, clear errors for a bad or busy port, and a clean close.
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
      const list = (await (await fetch(`${d.url}/api/runs`)).json()) as { runs: { id: string }[] };
      expect(list.runs.map((r) => r.id)).toEqual(['r1']);
      const page = await fetch(d.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('r1');
    } finally {
      await d.close();
    }
    await expect(fetch(`${d.url}/api/runs`)).rejects.toThrow();
  });

  it('says which port is busy, and refuses an invalid port', async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await expect(mod.startDashboard({ runsDir: join(base, 'runs'), port, build: false })).rejects.toThrow(`port ${port} on 127.0.0.1 is in use: pick another with --port`);
    } finally {
      blocker.close();
    }
    await expect(mod.startDashboard({ port: 70000, build: false })).rejects.toBeInstanceOf(mod.DashboardStartError);
  });
});
