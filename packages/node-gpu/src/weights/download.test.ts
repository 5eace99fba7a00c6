/** The downloader and the FASTTS_MIRROR switch, against a local mirror on 127.0.0.1 (no test touches the network). */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMirror, type Mirror } from '../../../../test-support/mirror.js';
import { SHARED_DIR } from '../../../../test-support/shared.js';
import { checkFile, downloadFile, mirrorUrl } from './download.js';
import { ChecksumError, DownloadError } from './errors.js';
import { loadPretrained } from './load.js';

const body = randomBytes(3_000_000);
const sha = createHash('sha256').update(body).digest('hex');
const FILE = 'https://files.example.org/data/file.bin';
let mirror: Mirror;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fastts-dl-'));
  mirror = await startMirror({
    [FILE]: body,
    'files.example.org/data/flaky.bin': body,
    'files.example.org/data/busy.bin': { status: 503 },
  });
});

afterAll(async () => {
  await mirror.close();
  rmSync(dir, { recursive: true, force: true });
});

const fast = () => ({ retryDelayMs: 10, progress: false, mirror: mirror.url }) as const;

describe('mirrorUrl', () => {
  it('maps http(s)://<host>/<path> to <base>/<host>/<path>', () => {
    expect(mirrorUrl('https://download.pytorch.org/models/resnet34-b627a593.pth', 'http://127.0.0.1:8080')).toBe(
      'http://127.0.0.1:8080/download.pytorch.org/models/resnet34-b627a593.pth',
    );
    expect(mirrorUrl('http://files.fast.ai/data/examples/mnist_tiny.tgz', 'https://mirror.example/fastts/')).toBe(
      'https://mirror.example/fastts/files.fast.ai/data/examples/mnist_tiny.tgz',
    );
    expect(mirrorUrl('https://host.example:8443/a/b?x=1', 'http://m')).toBe('http://m/host.example:8443/a/b?x=1');
    expect(mirrorUrl('https://host.example/a', '')).toBe('https://host.example/a');
  });

  it('reads FASTTS_MIRROR, and rejects one that is not an http(s) URL', () => {
    const saved = process.env.FASTTS_MIRROR;
    try {
      process.env.FASTTS_MIRROR = 'http://10.0.0.1/mirror';
      expect(mirrorUrl('https://storage.googleapis.com/x/model.json')).toBe(
        'http://10.0.0.1/mirror/storage.googleapis.com/x/model.json',
      );
      delete process.env.FASTTS_MIRROR;
      expect(mirrorUrl('https://storage.googleapis.com/x/model.json')).toBe('https://storage.googleapis.com/x/model.json');
    } finally {
      if (saved === undefined) delete process.env.FASTTS_MIRROR;
      else process.env.FASTTS_MIRROR = saved;
    }
    expect(() => mirrorUrl('https://a.example/b', '/srv/mirror')).toThrow(DownloadError);
    expect(() => mirrorUrl('https://a.example/b', 'ftp://m')).toThrow(/FASTTS_MIRROR='ftp:\/\/m' is not an http\(s\) URL/);
  });
});

describe('downloadFile', () => {
  it('downloads through the mirror, verifies a sha256 prefix and renames into place', async () => {
    const dest = join(dir, 'a', 'file.bin');
    await downloadFile(FILE, dest, { ...fast(), sha256: sha.slice(0, 8), size: body.length });
    expect(readFileSync(dest).equals(body)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(mirror.count(FILE)).toBe(1);
  });

  it('verifies an md5 of the first bytes, as fast.ai publishes them', async () => {
    const md5 = createHash('md5')
      .update(body.subarray(0, 2 ** 20))
      .digest('hex');
    const dest = join(dir, 'md5.bin');
    await downloadFile(FILE, dest, { ...fast(), checksum: { algorithm: 'md5', digest: md5, firstBytes: 2 ** 20 } });
    expect(
      await checkFile(dest, { size: body.length, checksum: { algorithm: 'md5', digest: md5, firstBytes: 2 ** 20 } }),
    ).toBeNull();
    const whole = createHash('md5').update(body).digest('hex');
    expect(await checkFile(dest, { checksum: { algorithm: 'md5', digest: md5 } })).toEqual({
      what: 'md5',
      expected: md5,
      actual: whole,
    });
    expect(await checkFile(dest, { size: 5 })).toEqual({ what: 'size', expected: '5 bytes', actual: `${body.length} bytes` });
  });

  it('resumes an interrupted download with a Range request', async () => {
    const key = 'files.example.org/data/flaky.bin';
    mirror.cutOnce(key, 1_000_000);
    const dest = join(dir, 'flaky.bin');
    await downloadFile(`https://${key}`, dest, { ...fast(), sha256: sha });
    expect(readFileSync(dest).equals(body)).toBe(true);
    const flaky = mirror.requests.filter((r) => r.key === key);
    expect(flaky.map((r) => r.status)).toEqual([200, 206]);
    expect(Number(/^bytes=(\d+)-$/.exec(flaky[1]!.range!)![1])).toBeGreaterThan(0);
  });

  it('deletes the file and throws on a checksum or size mismatch', async () => {
    const dest = join(dir, 'bad.bin');
    let err = await downloadFile(FILE, dest, { ...fast(), sha256: 'deadbeef' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    expect((err as Error).message).toMatch(/has sha256 [0-9a-f]{64}, expected a hash starting with deadbeef: .*it was deleted/);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
    err = await downloadFile(FILE, dest, { ...fast(), size: 12 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/has size 3000000 bytes, expected 12 bytes/);
    expect(readdirSync(dir)).not.toContain('bad.bin.part');
  });

  it('retries server errors, not client errors; names the mirror and the canonical URL', async () => {
    const busy = 'https://files.example.org/data/busy.bin';
    const e503 = await downloadFile(busy, join(dir, 'busy.bin'), { ...fast(), retries: 2 }).catch((e: unknown) => e);
    expect(e503).toBeInstanceOf(DownloadError);
    expect((e503 as Error).message).toBe(
      `download of ${mirror.url}/files.example.org/data/busy.bin failed: HTTP 503 (the mirror's copy of ${busy}; FASTTS_MIRROR=${mirror.url})`,
    );
    expect(mirror.count(busy)).toBe(3);
    const missing = 'https://files.example.org/data/missing.bin';
    const e404 = await downloadFile(missing, join(dir, 'missing.bin'), { ...fast(), retries: 2 }).catch((e: unknown) => e);
    expect((e404 as Error).message).toMatch(/HTTP 404/);
    expect(mirror.count(missing)).toBe(1);
  });
});

describe('FASTTS_MIRROR for pretrained weights', () => {
  it('loadPretrained downloads every weight file from the mirror into an empty cache', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    const prefix = 'storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.25_224/';
    const weights = await startMirror({ [prefix]: join(SHARED_DIR, 'models', 'mobilenet_v1_0.25_224') });
    const home = mkdtempSync(join(tmpdir(), 'fastts-mirror-home-'));
    const saved = process.env.FASTTS_MIRROR;
    process.env.FASTTS_MIRROR = weights.url;
    try {
      const loaded = await loadPretrained('mobilenet_v1_0.25_224', { home, offline: false, download: { progress: false } });
      expect(loaded.stateDict.size).toBeGreaterThan(50);
      loaded.dispose();
      expect(weights.requests.every((r) => r.key.startsWith(prefix) && r.status === 200)).toBe(true);
      expect(weights.count(`https://${prefix}model.json`)).toBe(1);
      const cached = readdirSync(join(home, 'models', 'mobilenet_v1_0.25_224'));
      expect(cached.filter((f) => f.includes('shard'))).toHaveLength(55);
      expect(weights.count()).toBe(cached.length);
      // cached now: no further request
      (await loadPretrained('mobilenet_v1_0.25_224', { home, offline: false })).dispose();
      expect(weights.count()).toBe(cached.length);
    } finally {
      if (saved === undefined) delete process.env.FASTTS_MIRROR;
      else process.env.FASTTS_MIRROR = saved;
      await weights.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
