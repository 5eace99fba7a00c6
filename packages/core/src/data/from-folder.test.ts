import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { getTransforms } from '../transforms/augmentation.js';
import { FolderNotFoundError, InvalidOptionError, NoImagesError, type DataWarning } from './errors.js';
import { fromFolderWith } from './from-folder.js';
import { MemoryPlatform, memoryDataset } from './memory-platform.test-util.js';

const quiet = { onWarning: () => undefined };

describe('fromFolderWith (folder layout semantics)', () => {
  it('labels by parent folder, sorts classes, sets up train/valid/test loaders as fast.ai does', async () => {
    const files = memoryDataset('/r', { train: { zebra: 5, ant: 7 }, valid: { zebra: 2, ant: 3 }, test: { '': 4 } });
    const data = await fromFolderWith(new MemoryPlatform(files), '/r', { test: 'test', bs: 4, size: 32, ...quiet });
    expect(data.classes).toEqual(['ant', 'zebra']);
    expect(data.c).toBe(2);
    expect(data.trainDl.n).toBe(12);
    expect(data.validDl.n).toBe(5);
    expect(data.testDl?.n).toBe(4);
    expect(data.trainDl.items.slice(0, 7).every((p) => p.startsWith('/r/train/ant/'))).toBe(true);
    expect(data.trainDl.labels.slice(0, 7)).toEqual(new Array(7).fill(0));
    expect(data.testDl?.labels).toEqual([-1, -1, -1, -1]);
    expect(data.testDl?.items).toEqual(['/r/test/000.jpg', '/r/test/001.jpg', '/r/test/002.jpg', '/r/test/003.jpg']);
    expect(data.trainDl.shuffle && data.trainDl.dropLast).toBe(true);
    expect(data.validDl.shuffle || data.validDl.dropLast).toBe(false);
    expect(data.trainDl.length).toBe(3);
  });

  it("accepts other folder names (valid: 'val')", async () => {
    const files = memoryDataset('/r', { training: { a: 3, b: 3 }, val: { a: 1, b: 2 } });
    const data = await fromFolderWith(new MemoryPlatform(files), '/r', { train: 'training', valid: 'val', ...quiet });
    expect(data.validDl.n).toBe(3);
    expect(data.validDl.items[0]).toBe('/r/val/a/000.jpg');
  });

  it('splits the labelled pool at random with validPct: reproducible per seed, different across seeds', async () => {
    const files = memoryDataset('/r', { train: { a: 20, b: 20 }, valid: { a: 5, b: 5 }, test: { '': 3 } });
    const p = new MemoryPlatform(files);
    const a = await fromFolderWith(p, '/r', { validPct: 0.2, seed: 42, test: 'test', ...quiet });
    const b = await fromFolderWith(p, '/r', { validPct: 0.2, seed: 42, test: 'test', ...quiet });
    const c = await fromFolderWith(p, '/r', { validPct: 0.2, seed: 7, test: 'test', ...quiet });
    expect(a.validDl.n).toBe(10); // floor(0.2 * 50): train and valid folders pooled, test excluded
    expect(a.trainDl.n).toBe(40);
    expect(b.validDl.items).toEqual(a.validDl.items);
    expect(c.validDl.items).not.toEqual(a.validDl.items);
    expect(a.testDl?.n).toBe(3);
    expect([...a.trainDl.items, ...a.validDl.items].some((i) => i.includes('/test/'))).toBe(false);
  });

  it('names what is wrong when folders are missing', async () => {
    const p = new MemoryPlatform(memoryDataset('/r', { train: { a: 2 } }));
    await expect(fromFolderWith(p, '/nope', quiet)).rejects.toThrow(FolderNotFoundError);
    await expect(fromFolderWith(p, '/r', quiet)).rejects.toThrow(/folder not found: \/r\/valid .*validPct/);
    await expect(fromFolderWith(p, '/r', { train: 'training', ...quiet })).rejects.toThrow(/its subfolders are: train/);
    await expect(fromFolderWith(p, '/r', { validPct: 1.5, ...quiet })).rejects.toThrow(InvalidOptionError);
  });

  it('skips unreadable files and class-less files with a named warning each, and warns about empty class folders', async () => {
    const files = memoryDataset('/r', { train: { a: 3, b: 3 }, valid: { a: 1, b: 1, c: 1 } });
    files.set('/r/train/a/bad.jpg', 'broken');
    files.set('/r/train/b/notes.png', 'text');
    files.set('/r/train/loose.jpg', { width: 10, height: 10, value: 1 });
    files.set('/r/train/empty/readme.txt', 'text');
    const warnings: DataWarning[] = [];
    const data = await fromFolderWith(new MemoryPlatform(files), '/r', { onWarning: (w) => warnings.push(w) });
    expect(data.classes).toEqual(['a', 'b']);
    expect(data.trainDl.n).toBe(6);
    expect(data.skipped.map((s) => s.path).sort()).toEqual([
      '/r/train/a/bad.jpg',
      '/r/train/b/notes.png',
      '/r/train/loose.jpg',
      '/r/valid/c/000.jpg',
    ]);
    expect(warnings.find((w) => w.path === '/r/train/a/bad.jpg')?.message).toMatch(
      /skipped \/r\/train\/a\/bad.jpg: truncated JPEG/,
    );
    expect(warnings.find((w) => w.path === '/r/train/loose.jpg')?.message).toMatch(/not inside a class folder/);
    expect(warnings.find((w) => w.code === 'empty-class-folder')?.path).toBe('/r/train/empty');
    expect(warnings.find((w) => w.code === 'unknown-label')?.message).toMatch(
      /class "c" is not one of the training classes \(a, b\)/,
    );
    expect(data.warnings).toEqual(warnings);
  });

  it('fails clearly when no image is left', async () => {
    const files = memoryDataset('/r', { valid: { a: 1 } });
    files.set('/r/train/a/x.jpg', 'broken');
    await expect(fromFolderWith(new MemoryPlatform(files), '/r', quiet)).rejects.toThrow(NoImagesError);
    const none = new Map(memoryDataset('/r', { valid: { a: 1 } }));
    none.set('/r/train/a/readme.txt', 'text');
    await expect(fromFolderWith(new MemoryPlatform(none), '/r', quiet)).rejects.toThrow(/no images found in \/r\/train/);
  });

  it('makes a test loader for other files, with the validation preprocessing', async () => {
    const files = memoryDataset('/r', { train: { a: 2, b: 2 }, valid: { a: 1, b: 1 }, new: { '': 3 } });
    const data = await fromFolderWith(new MemoryPlatform(files), '/r', { size: 16, bs: 2, ...quiet });
    data.normalize((x) => x);
    const dl = data.makeTestDl(['/r/new/002.jpg', '/r/new/000.jpg']);
    expect(dl.items).toEqual(['/r/new/002.jpg', '/r/new/000.jpg']);
    expect(dl.labels).toEqual([-1, -1]);
    expect(dl.normalizer).toBe(data.normalizer);
    const b = await dl.oneBatch();
    expect(b.x.shape).toEqual([2, 16, 16, 3]);
    b.x.dispose();
    b.y.dispose();
  });

  it("verify: 'full' decodes everything up front into the cache", async () => {
    const files = memoryDataset('/r', { train: { a: 3 }, valid: { a: 1 } });
    files.set('/r/train/a/bad.jpg', 'broken');
    const p = new MemoryPlatform(files);
    const data = await fromFolderWith(p, '/r', { verify: 'full', size: 16, tfms: getTransforms(), ...quiet });
    expect(data.skipped).toHaveLength(1);
    const n = p.decodeCalls.length;
    expect(n).toBe(5);
    for await (const b of data.trainDl) {
      b.x.dispose();
      b.y.dispose();
    }
    expect(p.decodeCalls.length).toBe(n);
  });
});
