/**
 * untarData end to end through a local mirror on 127.0.0.1 (FASTTS_MIRROR), into empty temporary FASTTS_HOMEs:
 * the doraemon-walle archive rebuilt from ../shared in GitHub's layout, and small synthetic fast.ai-style archives.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildDoraemonWalleArchive,
  startMirror,
  writeTarGz,
  type DoraemonWalleArchive,
  type Mirror,
  type TarEntry,
} from '../../../../test-support/mirror.js';
import { DORAEMON_WALLE, requireShared } from '../../../../test-support/shared.js';
import { ChecksumError } from '../weights/errors.js';
import { DORAEMON_WALLE_FILES } from './doraemon-walle-files.js';
import { ArchiveError, DatasetHomeError, DatasetIntegrityError, DatasetUnavailableError, UnknownDatasetError } from './errors.js';
import { getDataset } from './registry.js';
import { untarData, type UntarDataOptions } from './untar-data.js';
import { URLs } from './urls.js';
import { verifyFiles } from './verify.js';

const TMP = mkdtempSync(join(tmpdir(), 'fastts-untar-'));
let archive: DoraemonWalleArchive;
let mirror: Mirror;

/** A new empty FASTTS_HOME. */
function freshHome(): string {
  return mkdtempSync(join(TMP, 'home-'));
}

/** Options through the mirror, collecting warnings. */
function viaMirror(home: string, warnings: string[] = [], more: UntarDataOptions = {}): UntarDataOptions {
  return {
    home,
    offline: false,
    onWarning: (m) => warnings.push(m),
    download: { mirror: mirror.url, progress: false, retryDelayMs: 10 },
    ...more,
  };
}

/** The error `p` rejects with (fails the test when it resolves). */
const rejection = (p: Promise<unknown>): Promise<Error> =>
  p.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e as Error,
  );

/** A fast.ai-style archive (`<name>/train/<class>/...`) over 1 MiB, with fast.ai's check computed independently. */
async function fastaiArchive(name: string, extra: TarEntry[] = []): Promise<{ file: string; size: number; md5: string }> {
  const file = join(TMP, `${name}.tgz`);
  const jpgs = readdirSync(join(DORAEMON_WALLE, 'train', 'walle')).slice(0, 20);
  await writeTarGz(file, [
    { path: `${name}/labels.csv`, data: Buffer.from('name,label\n') },
    ...jpgs.map((f) => ({ path: `${name}/train/walle/${f}`, file: join(DORAEMON_WALLE, 'train', 'walle', f) })),
    ...extra,
  ]);
  const bytes = readFileSync(file);
  expect(bytes.length).toBeGreaterThan(2 ** 20);
  return {
    file,
    size: bytes.length,
    md5: createHash('md5')
      .update(bytes.subarray(0, 2 ** 20))
      .digest('hex'),
  };
}

beforeAll(async () => {
  requireShared();
  archive = await buildDoraemonWalleArchive();
  mirror = await startMirror({ [archive.url]: archive.file });
});

afterAll(async () => {
  await mirror?.close();
  archive?.remove();
  rmSync(TMP, { recursive: true, force: true });
});

describe('the doraemon-walle blob list', () => {
  it('matches every file of ../shared, which lacks only train/walle/walle.124.jpg', async () => {
    const found = await verifyFiles(DORAEMON_WALLE, DORAEMON_WALLE_FILES);
    expect(found.missing).toEqual(['train/walle/walle.124.jpg']);
    expect(found.differing).toEqual([]);
    expect(found.unexpected).toEqual([]);
    expect(DORAEMON_WALLE_FILES).toHaveLength(319);
  });
});

describe('untarData', () => {
  it('downloads, verifies and extracts doraemon-walle into FASTTS_HOME/data; a second call makes no request', async () => {
    const home = freshHome();
    const warnings: string[] = [];
    const before = mirror.count(archive.url);
    const dir = await untarData('doraemon-walle', viaMirror(home, warnings));
    expect(dir).toBe(join(home, 'data', 'doraemon-walle'));
    expect(mirror.count(archive.url)).toBe(before + 1);
    expect(readdirSync(dir).sort()).toEqual(['test', 'train', 'valid']);
    expect(existsSync(join(dir, 'README.md'))).toBe(false);
    const found = await verifyFiles(dir, DORAEMON_WALLE_FILES);
    expect(found).toEqual({ missing: ['train/walle/walle.124.jpg'], differing: [], unexpected: [] });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /'doraemon-walle': train\/walle\/walle\.124\.jpg .* is missing from .*doraemon-walle-05086ce\.tar\.gz/,
    );
    // fast.ai keeps the archive under archive/; no temporary folder is left
    expect(readdirSync(join(home, 'archive'))).toEqual(['doraemon-walle-05086ce.tar.gz']);
    expect(readdirSync(join(home, 'data'))).toEqual(['doraemon-walle']);

    const total = mirror.count();
    expect(await untarData(URLs.DORAEMON_WALLE, viaMirror(home, warnings))).toBe(dir);
    expect(await untarData('DORAEMON_WALLE', viaMirror(home, warnings))).toBe(dir);
    expect(mirror.count()).toBe(total);
    expect(warnings).toHaveLength(1);
  });

  it('resumes an interrupted download with a Range request', async () => {
    const home = freshHome();
    const before = mirror.requests.length;
    mirror.cutOnce(archive.url, 5_000_000);
    const dir = await untarData('doraemon-walle', viaMirror(home));
    const mine = mirror.requests.slice(before);
    expect(mine.map((r) => r.status)).toEqual([200, 206]);
    expect(mine[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(mine[1]!.range!)![0])).toBeGreaterThanOrEqual(4_000_000);
    expect((await verifyFiles(dir, DORAEMON_WALLE_FILES)).differing).toEqual([]);
  });

  it('extracts an archive already in FASTTS_HOME/archive offline, without a request; keepArchive: false deletes it', async () => {
    const home = freshHome();
    mkdirSync(join(home, 'archive'));
    writeFileSync(join(home, 'archive', 'doraemon-walle-05086ce.tar.gz'), readFileSync(archive.file));
    const total = mirror.count();
    const dir = await untarData('doraemon-walle', { ...viaMirror(home), offline: true, keepArchive: false });
    expect(mirror.count()).toBe(total);
    expect(readdirSync(join(dir, 'train')).sort()).toEqual(['doraemon', 'walle']);
    expect(readdirSync(join(home, 'archive'))).toEqual([]);
  });

  it('ignores (and removes) the leftovers of a killed extraction', async () => {
    const home = freshHome();
    const stale = join(home, 'data', '.doraemon-walle.partial-999999999');
    mkdirSync(join(stale, 'train'), { recursive: true });
    const dir = await untarData('doraemon-walle', viaMirror(home));
    expect(existsSync(stale)).toBe(false);
    expect(readdirSync(join(home, 'data'))).toEqual(['doraemon-walle']);
    expect(readdirSync(join(dir, 'valid', 'walle'))).toHaveLength(17);
  });

  it('a file whose bytes differ from the pinned commit is an error naming it; the archive is deleted', async () => {
    const bad = await buildDoraemonWalleArchive({ replace: { 'valid/walle/walle.95.jpg': Buffer.from('not the picture') } });
    try {
      const home = freshHome();
      mirror.add(bad.url, bad.file);
      const err = await rejection(untarData('doraemon-walle', viaMirror(home)));
      expect(err).toBeInstanceOf(DatasetIntegrityError);
      expect(err.message).toMatch(
        /1 file\(s\) in .*doraemon-walle-05086ce\.tar\.gz differ from the pinned commit 05086cef92bc: valid\/walle\/walle\.95\.jpg \(git blob [0-9a-f]{40}, expected ad6963581db027f2eefd0e5f688a47376028c07d\)/,
      );
      expect(err.message).toMatch(/was deleted; run again/);
      expect(existsSync(join(home, 'archive', 'doraemon-walle-05086ce.tar.gz'))).toBe(false);
      expect(readdirSync(join(home, 'data'))).toEqual([]);
    } finally {
      mirror.add(archive.url, archive.file);
      bad.remove();
    }
  });

  it('refuses archive entries that would land outside the folder', async () => {
    for (const extra of [
      { path: '../../evil.txt', data: Buffer.from('x') },
      { path: '/tmp/evil.txt', data: Buffer.from('x') },
      { path: 'mnist_tiny/train/link', symlink: '../../../../outside' },
    ]) {
      const evil = await fastaiArchive('mnist_tiny', [extra]);
      mirror.add(URLs.MNIST_TINY, evil.file);
      const home = freshHome();
      const err = await rejection(untarData('mnist_tiny', viaMirror(home, [], { check: { size: evil.size, md5: evil.md5 } })));
      expect(err).toBeInstanceOf(ArchiveError);
      expect(err.message).toContain(`would be written outside`);
      expect(err.message).toContain(`'${extra.path}'`);
      expect(err.message).toMatch(/it was deleted/);
      expect(existsSync(join(home, 'evil.txt'))).toBe(false);
      expect(existsSync(join(TMP, 'evil.txt'))).toBe(false);
      expect(readdirSync(join(home, 'data'))).toEqual([]);
      expect(readdirSync(join(home, 'archive'))).toEqual([]);
    }
  });

  it("a fast.ai data set: verified against the entry's size and md5 of the first MiB, its top folder becomes data/<name>", async () => {
    const spec = getDataset(URLs.MNIST_TINY);
    expect(spec).toMatchObject({ name: 'mnist_tiny', archive: { size: 342207, md5: '56143e8f24db90d925d82a5a74141875' } });
    const tiny = await fastaiArchive('mnist_tiny');
    mirror.add(URLs.MNIST_TINY, tiny.file);
    const home = freshHome();
    const dir = await untarData('MNIST_TINY', viaMirror(home, [], { check: { size: tiny.size, md5: tiny.md5 } }));
    expect(dir).toBe(join(home, 'data', 'mnist_tiny'));
    expect(readdirSync(dir).sort()).toEqual(['labels.csv', 'train']);
    expect(readdirSync(join(dir, 'train', 'walle'))).toHaveLength(20);
    expect(existsSync(join(home, 'archive', 'mnist_tiny.tgz'))).toBe(true);
  });

  it('a checksum mismatch deletes the download and says so', async () => {
    const tiny = await fastaiArchive('mnist_tiny');
    mirror.add(URLs.MNIST_TINY, tiny.file);
    // the registry's published check: the synthetic archive has another size
    let home = freshHome();
    let err = await rejection(untarData(URLs.MNIST_TINY, viaMirror(home)));
    expect(err).toBeInstanceOf(ChecksumError);
    expect(err.message).toMatch(
      new RegExp(`mnist_tiny\\.tgz has size ${tiny.size} bytes, expected 342207 bytes: .*it was deleted`),
    );
    expect(readdirSync(join(home, 'archive'))).toEqual([]);
    // right size, wrong md5
    home = freshHome();
    err = await rejection(untarData(URLs.MNIST_TINY, viaMirror(home, [], { check: { size: tiny.size, md5: '0'.repeat(32) } })));
    expect(err.message).toMatch(new RegExp(`has md5 of the first 1 MiB ${tiny.md5}, expected 0{32}: .*it was deleted`));
    expect(readdirSync(join(home, 'archive'))).toEqual([]);
    expect(existsSync(join(home, 'data', 'mnist_tiny'))).toBe(false);
  });

  it('an unknown name suggests close names', async () => {
    let err = await rejection(untarData('doraemon-wale', viaMirror(freshHome())));
    expect(err).toBeInstanceOf(UnknownDatasetError);
    expect(err.message).toMatch(/^unknown data set 'doraemon-wale'\. Did you mean 'doraemon-walle'\?/);
    err = await rejection(untarData('petz', viaMirror(freshHome())));
    expect(err.message).toMatch(/Did you mean 'oxford-iiit-pet'/);
    err = await rejection(untarData('imagenete-160', viaMirror(freshHome())));
    expect(err.message).toMatch(/Did you mean 'imagenette2-160'/);
    err = await rejection(untarData('https://example.com/data.zip', viaMirror(freshHome())));
    expect(err.message).toMatch(/only \.tgz \/ \.tar\.gz archives/);
  });

  it('an unwritable FASTTS_HOME is named', async () => {
    const file = join(TMP, 'a-file');
    writeFileSync(file, '');
    const home = join(file, 'home');
    const err = await rejection(untarData('doraemon-walle', viaMirror(home)));
    expect(err).toBeInstanceOf(DatasetHomeError);
    expect(err.message).toContain(`cannot write to ${home} (ENOTDIR`);
    expect(err.message).toMatch(/Set FASTTS_HOME to a writable folder/);
  });

  it.skipIf(process.getuid?.() === 0)('a read-only FASTTS_HOME is named (not as root, who may write anywhere)', async () => {
    const home = freshHome();
    chmodSync(home, 0o555);
    try {
      const err = await rejection(untarData('doraemon-walle', viaMirror(home)));
      expect(err).toBeInstanceOf(DatasetHomeError);
      expect(err.message).toMatch(/cannot write to .*home-.*\/archive \(EACCES/);
    } finally {
      chmodSync(home, 0o755);
    }
  });

  it('offline: says what to download and exactly where to put it, or how to use a mirror', async () => {
    const home = freshHome();
    const saved = process.env.FASTTS_OFFLINE;
    process.env.FASTTS_OFFLINE = '1';
    try {
      const err = await rejection(untarData('doraemon-walle', { home, download: { mirror: mirror.url } }));
      expect(err).toBeInstanceOf(DatasetUnavailableError);
      expect(err.message).toBe(
        `data set 'doraemon-walle' is not in ${home}/data/doraemon-walle and downloading is disabled (FASTTS_OFFLINE=1).\n` +
          `Download\n  ${URLs.DORAEMON_WALLE}\nand save it as\n  ${home}/archive/doraemon-walle-05086ce.tar.gz\n` +
          `(the next run verifies and extracts it), or put the extracted data set at ${home}/data/doraemon-walle;\n` +
          'or set FASTTS_MIRROR=<base URL> to a mirror that serves it as ' +
          '<base URL>/codeload.github.com/wshuyi/demo-image-classification-fastai/tar.gz/05086cef92bc7f5ff48d636d3c6643e6fda8803b.',
      );
    } finally {
      if (saved === undefined) delete process.env.FASTTS_OFFLINE;
      else process.env.FASTTS_OFFLINE = saved;
    }
    expect(existsSync(join(home, 'data'))).toBe(false);
  });

  it('a failed download gives the same instructions, with the reason', async () => {
    const home = freshHome();
    const err = await rejection(untarData(URLs.CALTECH_101, viaMirror(home)));
    expect(err).toBeInstanceOf(DatasetUnavailableError);
    expect(err.message).toContain(`data set 'caltech_101' is not in ${home}/data/caltech_101 and the download failed (`);
    expect(err.message).toContain(
      `${mirror.url}/s3.amazonaws.com/fast-ai-imageclas/caltech_101.tgz failed: HTTP 404 (the mirror's copy of ${URLs.CALTECH_101}`,
    );
    expect(err.message).toContain(`and save it as\n  ${home}/archive/caltech_101.tgz`);
  });
});
