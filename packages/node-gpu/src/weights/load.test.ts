/** loadPretrained: cache lookup, offline and network-failure errors, downloads from a local stand-in host. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { createModel } from '@fastts/core/models';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '../../../../test-support/shared.js';
import { fasttsHome, isOffline } from './cache.js';
import { CachedWeightsError, PretrainedUnavailableError } from './errors.js';
import { loadPretrained } from './load.js';

const FIXTURE = join(SHARED_DIR, 'fixtures', 'torchvision-resnet18');
const MOBILENET = join(SHARED_DIR, 'models', 'mobilenet_v1_0.25_224');
let server: Server;
let base: string;
let home: string;
const served: string[] = [];

/** A fetch that sends every canonical URL to the local server instead (same path tail). */
const localFetch: typeof fetch = (input, init) => {
  const url = String(input);
  return fetch(`${base}/${basename(new URL(url).pathname)}`, init);
};

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  home = mkdtempSync(join(tmpdir(), 'fastts-home-'));
  server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    served.push(name);
    // the resnet18 fixture stands in for torchvision's file (its sha256 does not match the real one)
    const file = name === 'resnet18-f37072fd.pth' ? join(FIXTURE, 'resnet18.pth') : join(MOBILENET, name);
    if (!name || name.includes('/') || !existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    const data = readFileSync(file);
    res.writeHead(200, { 'content-length': data.length });
    res.end(data);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(home, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('loadPretrained', () => {
  it('offline: names the file, its URL and the folder to put it in', async () => {
    const e = await rejection(loadPretrained('resnet34', { home, offline: true }));
    expect(e).toBeInstanceOf(PretrainedUnavailableError);
    const dir = join(home, 'models', 'resnet34');
    expect(e.message).toContain(
      `pretrained weights for 'resnet34' are not in ${dir} and downloading is disabled (FASTTS_OFFLINE=1)`,
    );
    expect(e.message).toContain('https://download.pytorch.org/models/resnet34-b627a593.pth');
    expect(e.message).toContain(join(dir, 'resnet34-b627a593.pth'));
    expect(existsSync(dir)).toBe(false);
  });

  it('reads FASTTS_OFFLINE and FASTTS_HOME', () => {
    const saved = { off: process.env.FASTTS_OFFLINE, home: process.env.FASTTS_HOME };
    process.env.FASTTS_OFFLINE = '1';
    process.env.FASTTS_HOME = home;
    expect(isOffline()).toBe(true);
    expect(fasttsHome()).toBe(home);
    process.env.FASTTS_OFFLINE = '0';
    expect(isOffline()).toBe(false);
    delete process.env.FASTTS_HOME;
    expect(fasttsHome()).toMatch(/\.cache[\\/]fastts$/);
    if (saved.off === undefined) delete process.env.FASTTS_OFFLINE;
    else process.env.FASTTS_OFFLINE = saved.off;
    if (saved.home !== undefined) process.env.FASTTS_HOME = saved.home;
  });

  it('a network failure gives the same guidance', async () => {
    const failing: typeof fetch = () => Promise.reject(new TypeError('fetch failed: getaddrinfo ENOTFOUND download.pytorch.org'));
    const e = await rejection(
      loadPretrained('resnet50', {
        home,
        offline: false,
        download: { fetch: failing, retries: 1, retryDelayMs: 1, progress: false },
      }),
    );
    expect(e).toBeInstanceOf(PretrainedUnavailableError);
    expect(e.message).toMatch(
      /the download failed \(download of https:\/\/download\.pytorch\.org\/models\/resnet50-0676ba61\.pth failed: fetch failed/,
    );
    expect(e.message).toContain(join(home, 'models', 'resnet50', 'resnet50-0676ba61.pth'));
  });

  it('rejects a download whose sha256 does not match the prefix in its name', async () => {
    const e = await rejection(
      loadPretrained('resnet18', { home, offline: false, download: { fetch: localFetch, retryDelayMs: 1, progress: false } }),
    );
    expect(e.message).toMatch(/has sha256 [0-9a-f]{64}, expected a hash starting with f37072fd/);
    expect(existsSync(join(home, 'models', 'resnet18', 'resnet18-f37072fd.pth'))).toBe(false);
  });

  it('downloads a layers model (model.json, then its shards) into the cache, then works offline', async () => {
    const opts = { home, offline: false, download: { fetch: localFetch, retryDelayMs: 1, progress: false } };
    const w = await loadPretrained('mobilenet_v1_0.25_224', opts);
    expect(w.layout).toBe('native');
    expect(w.stateDict.size).toBe(137);
    w.dispose();
    expect(served).toContain('model.json');
    expect(served).toContain('mobilenet_group55-shard1of1');
    const dir = join(home, 'models', 'mobilenet_v1_0.25_224');
    expect(existsSync(join(dir, 'mobilenet_group1-shard1of1'))).toBe(true);
    const again = await loadPretrained('mobilenet_v1_0.25_224', { home, offline: true });
    const model = createModel('mobilenet_v1_0.25_224', { weights: again });
    again.dispose();
    model.dispose();
  });

  it('names a corrupt cached file and says how to recover', async () => {
    const dir = join(home, 'models', 'resnet34');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'resnet34-b627a593.pth'), readFileSync(join(FIXTURE, 'resnet18.pth')).subarray(0, 5000));
    const e = await rejection(loadPretrained('resnet34', { home, offline: true }));
    expect(e).toBeInstanceOf(CachedWeightsError);
    expect(e.message).toContain(
      `cannot load the cached weights at ${join(dir, 'resnet34-b627a593.pth')}: torch checkpoint: the zip archive is truncated or corrupt`,
    );
    expect(e.message).toContain('Delete the file(s) to have them downloaded again');
  });

  it('accepts a timm-style model.safetensors in the cache folder', async () => {
    const dir = join(home, 'models', 'resnet18');
    mkdirSync(dir, { recursive: true });
    symlinkSync(join(FIXTURE, 'resnet18.f16.safetensors'), join(dir, 'model.safetensors'));
    const w = await loadPretrained('resnet18', { home, offline: true });
    expect(w.layout).toBe('torch');
    expect(w.source).toBe(join(dir, 'model.safetensors'));
    const model = createModel('resnet18', { weights: w });
    w.dispose();
    model.dispose();
  });
});
