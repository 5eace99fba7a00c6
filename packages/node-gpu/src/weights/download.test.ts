/** The downloader against a local HTTP server on 127.0.0.1 (no test touches the network). */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadFile } from './download.js';
import { ChecksumError, DownloadError } from './errors.js';

const body = randomBytes(300_000);
const sha = createHash('sha256').update(body).digest('hex');
const requests: Array<{ url: string; range: string | undefined }> = [];
let flakyServed = 0;
let server: Server;
let base: string;
let dir: string;

function serveRange(req: IncomingMessage, res: ServerResponse): void {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m) {
    const start = Number(m[1]);
    res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    res.end(body.subarray(start));
  } else {
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fastts-dl-'));
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', range: req.headers.range });
    if (req.url === '/file.bin') return serveRange(req, res);
    if (req.url === '/flaky.bin') {
      if (flakyServed++ === 0) {
        // announce the whole file, send a third, then drop the connection
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, 100_000), () => setTimeout(() => res.socket?.destroy(), 20));
        return;
      }
      return serveRange(req, res);
    }
    res.writeHead(req.url === '/missing.bin' ? 404 : 503);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const fast = { retryDelayMs: 10, progress: false } as const;

describe('downloadFile', () => {
  it('downloads, verifies a sha256 prefix and renames into place', async () => {
    const dest = join(dir, 'a', 'file.bin');
    await downloadFile(`${base}/file.bin`, dest, { ...fast, sha256: sha.slice(0, 8) });
    expect(readFileSync(dest).equals(body)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('resumes an interrupted download with a Range request', async () => {
    const dest = join(dir, 'flaky.bin');
    await downloadFile(`${base}/flaky.bin`, dest, { ...fast, sha256: sha });
    expect(readFileSync(dest).equals(body)).toBe(true);
    const flaky = requests.filter((r) => r.url === '/flaky.bin');
    expect(flaky.length).toBe(2);
    expect(flaky[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(flaky[1]!.range!)![0])).toBeGreaterThan(0);
  });

  it('deletes the file and throws on a checksum mismatch', async () => {
    const dest = join(dir, 'bad.bin');
    const err = await downloadFile(`${base}/file.bin`, dest, { ...fast, sha256: 'deadbeef' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    expect((err as Error).message).toMatch(/expected a hash starting with deadbeef/);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('retries server errors, not client errors', async () => {
    const count = (u: string): number => requests.filter((r) => r.url === u).length;
    const e503 = await downloadFile(`${base}/busy.bin`, join(dir, 'busy.bin'), { ...fast, retries: 2 }).catch((e: unknown) => e);
    expect(e503).toBeInstanceOf(DownloadError);
    expect((e503 as Error).message).toMatch(/busy\.bin failed: HTTP 503/);
    expect(count('/busy.bin')).toBe(3);
    const e404 = await downloadFile(`${base}/missing.bin`, join(dir, 'missing.bin'), { ...fast, retries: 2 }).catch((e: unknown) => e);
    expect((e404 as Error).message).toMatch(/HTTP 404/);
    expect(count('/missing.bin')).toBe(1);
  });
});
