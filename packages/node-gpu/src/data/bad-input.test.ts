import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataError, FolderNotFoundError, ImageDecodeError, NoImagesError, NotAFolderError, type DataWarning } from '@fastts/core';
import { fromFolder } from './index.js';
import { put, realJpegs, smallDataset, tempDir } from './test-images.test-util.js';

let tmp = tempDir();
afterEach(() => {
  tmp.cleanup();
  tmp = tempDir();
});
beforeAll(async () => {
  await tf.setBackend('cpu');
});

function collectWarnings(): { warnings: DataWarning[]; onWarning: (w: DataWarning) => void } {
  const warnings: DataWarning[] = [];
  return { warnings, onWarning: (w) => warnings.push(w) };
}

describe('bad input gives a clear error or a named, counted skip', () => {
  it('a missing folder', async () => {
    const missing = join(tmp.dir, 'nope');
    const err = await fromFolder(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FolderNotFoundError);
    expect((err as Error).message).toBe(`folder not found: ${missing}`);
  });

  it('a file where the data folder should be', async () => {
    const file = put(tmp.dir, 'file.jpg', { copyOf: realJpegs('walle', 1)[0]! });
    await expect(fromFolder(file)).rejects.toThrow(NotAFolderError);
  });

  it('no valid folder: says which folders exist and how to split instead', async () => {
    smallDataset(tmp.dir, 'validation');
    const err = await fromFolder(tmp.dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FolderNotFoundError);
    expect((err as Error).message).toMatch(
      /valid.*its subfolders are: train, validation; pass \{ valid: '<folder>' \} or \{ validPct: 0.2 \}/,
    );
  });

  it('a folder with no images', async () => {
    put(tmp.dir, 'train/doraemon/notes.txt', 'hello');
    put(tmp.dir, 'valid/doraemon/0.jpg', { copyOf: realJpegs('doraemon', 1)[0]! });
    const err = await fromFolder(tmp.dir, { onWarning: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoImagesError);
    expect((err as Error).message).toContain(`no images found in ${join(tmp.dir, 'train')}`);
  });

  it('an empty class folder: warned about by name, no class made for it', async () => {
    smallDataset(tmp.dir);
    put(tmp.dir, 'train/eve/.keep', '');
    const { warnings, onWarning } = collectWarnings();
    const data = await fromFolder(tmp.dir, { onWarning });
    expect(data.classes).toEqual(['doraemon', 'walle']);
    expect(warnings).toEqual([
      {
        code: 'empty-class-folder',
        path: join(tmp.dir, 'train', 'eve'),
        message: `folder ${join(tmp.dir, 'train', 'eve')} holds no images: it is ignored and gives no class`,
      },
    ]);
  });

  it('a truncated JPEG, a text file named .jpg, an empty .png: each skipped, named and counted', async () => {
    smallDataset(tmp.dir);
    const full = readFileSync(realJpegs('walle', 1)[0]!);
    const truncated = put(tmp.dir, 'train/walle/truncated.jpg', full.subarray(0, Math.floor(full.length / 2)));
    const text = put(tmp.dir, 'train/doraemon/readme.jpg', 'not an image at all');
    const empty = put(tmp.dir, 'valid/walle/empty.png', new Uint8Array(0));
    const { warnings, onWarning } = collectWarnings();
    const data = await fromFolder(tmp.dir, { onWarning, size: 32, bs: 2 });
    expect(data.trainDl.n).toBe(6);
    expect(data.validDl.n).toBe(2);
    expect(data.skipped.map((s) => s.path).sort()).toEqual([text, truncated, empty].sort());
    expect(warnings).toHaveLength(3);
    expect(warnings.find((w) => w.path === truncated)?.message).toMatch(
      /^skipped .*truncated\.jpg: truncated or corrupt JPEG \(.*premature end/,
    );
    expect(warnings.find((w) => w.path === text)?.message).toMatch(/readme\.jpg: not an image: the content is text/);
    expect(warnings.find((w) => w.path === empty)?.message).toMatch(/empty\.png: not an image: the file is empty/);
    expect(data.toString()).toContain('Skipped: 3 files');
    // the rest trains fine
    for await (const { x, y } of data.trainDl) {
      expect(x.shape).toEqual([2, 32, 32, 3]);
      tf.dispose([x, y]);
    }
  });

  it("with verify: 'none' a bad file fails its batch with an error naming it", async () => {
    smallDataset(tmp.dir);
    const text = put(tmp.dir, 'valid/walle/zz.jpg', 'not an image');
    const data = await fromFolder(tmp.dir, { verify: 'none', size: 32, bs: 8, onWarning: () => undefined });
    const err = await (async () => {
      for await (const b of data.validDl) tf.dispose([b.x, b.y]);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain(text);
  });

  it("with verify: 'full' every image is decoded up front; undecodable ones are skipped", async () => {
    smallDataset(tmp.dir);
    const full = readFileSync(realJpegs('doraemon', 1)[0]!);
    const bad = put(tmp.dir, 'train/doraemon/cut.jpg', full.subarray(0, 2000));
    const { warnings, onWarning } = collectWarnings();
    const data = await fromFolder(tmp.dir, { verify: 'full', onWarning, size: 32 });
    expect(data.skipped.map((s) => s.path)).toEqual([bad]);
    expect(warnings[0]?.message).toContain(bad);
  });
});
