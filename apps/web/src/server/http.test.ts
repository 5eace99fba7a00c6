import { describe, expect, it, vi } from 'vitest';
import { InvalidNameError, NotFoundError } from './errors';
import { assertSameSite, handle } from './http';

describe('handle', () => {
  it('answers dashboard errors with their status and message as JSON', async () => {
    const r = await handle(async () => {
      throw new NotFoundError('run x');
    });
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: 'run x not found' });
    expect((await handle(async () => Promise.reject(new InvalidNameError('run id', '../x')))).status).toBe(400);
  });
  it('hides unexpected errors: a 500 with a fixed message, no stack, no path (the server log has them)', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const r = await handle(async () => {
      throw new Error("ENOENT: no such file or directory, open '/home/alice/secret/config.json'");
    });
    expect(r.status).toBe(500);
    const body = JSON.stringify(await r.json());
    expect(body).not.toContain('/home/alice');
    expect(body).not.toMatch(/at .*:\d+:\d+/);
    expect(log).toHaveBeenCalledOnce();
    log.mockRestore();
  });
});

describe('assertSameSite', () => {
  const req = (headers: Record<string, string>) =>
    new Request('http://127.0.0.1:3000/api/queue/train', { method: 'POST', headers });
  it('accepts a page of the dashboard (Sec-Fetch-Site, even with Origin: null) or a client whose Origin is the host', () => {
    expect(() => assertSameSite(req({ 'sec-fetch-site': 'same-origin', origin: 'null', host: '127.0.0.1:3000' }))).not.toThrow();
    expect(() => assertSameSite(req({ origin: 'http://127.0.0.1:3000', host: '127.0.0.1:3000' }))).not.toThrow();
  });
  it('refuses other sites and requests that say nothing', () => {
    expect(() =>
      assertSameSite(req({ 'sec-fetch-site': 'cross-site', origin: 'http://127.0.0.1:3000', host: '127.0.0.1:3000' })),
    ).toThrow(/same origin/);
    expect(() => assertSameSite(req({ origin: 'http://evil.example', host: '127.0.0.1:3000' }))).toThrow(/same origin/);
    expect(() => assertSameSite(req({ host: '127.0.0.1:3000' }))).toThrow(/same origin/);
  });
});
