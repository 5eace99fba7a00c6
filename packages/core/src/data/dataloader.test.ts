import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { getTransforms } from '../transforms/augmentation.js';
import { DataLoader } from './dataloader.js';
import { ImageDataset } from './dataset.js';
import { MemoryPlatform, memoryDataset } from './memory-platform.test-util.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function loader(n: number, opts: Partial<ConstructorParameters<typeof DataLoader>[1]> = {}, platform?: MemoryPlatform) {
  const p = platform ?? new MemoryPlatform(memoryDataset('/d', { train: { a: Math.ceil(n / 2), b: Math.floor(n / 2) } }));
  const items = [...p.files.keys()].sort();
  const labels = items.map((i) => (i.includes('/a/') ? 0 : 1));
  const ds = new ImageDataset(items, labels, ['a', 'b'], p, { width: 24, height: 24, fit: 'fill' });
  return { dl: new DataLoader(ds, { bs: 4, size: 16, seed: 1, ...opts }), platform: p };
}

async function collect(dl: DataLoader, opts = {}) {
  const out: { indices: number[]; shape: number[]; y: number[]; values: Float32Array }[] = [];
  for await (const { x, y, indices } of dl.iterate(opts)) {
    out.push({ indices, shape: x.shape, y: Array.from(await y.data()), values: (await x.data()) as Float32Array });
    x.dispose();
    y.dispose();
  }
  return out;
}

describe('DataLoader', () => {
  it('batches every item in order when not shuffled, last batch short', async () => {
    const { dl } = loader(10);
    expect(dl.length).toBe(3);
    const batches = await collect(dl);
    expect(batches.map((b) => b.indices)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(batches[0]!.shape).toEqual([4, 16, 16, 3]);
    expect(batches[2]!.shape).toEqual([2, 16, 16, 3]);
    // labels travel with their items; the memory images are flat colours, so pixels identify the item
    for (const b of batches) {
      expect(b.y).toEqual(b.indices.map((i) => dl.labels[i]));
      const per = 16 * 16 * 3;
      b.indices.forEach((item, k) => {
        const v = b.values[k * per + 100]!;
        const file = dl.dataset.platform as MemoryPlatform;
        expect(v).toBeCloseTo((file.files.get(dl.items[item]!) as { value: number }).value, 3);
      });
    }
  });

  it('drops the last incomplete batch for training, shuffles reproducibly per seed and per epoch', async () => {
    const { dl } = loader(10, { shuffle: true, dropLast: true });
    expect(dl.length).toBe(2);
    const e1 = (await collect(dl)).map((b) => b.indices);
    const e2 = (await collect(dl)).map((b) => b.indices);
    expect(e1.flat()).toHaveLength(8);
    expect(new Set(e1.flat()).size).toBe(8);
    expect(e2).not.toEqual(e1); // a new shuffle each epoch
    const again = loader(10, { shuffle: true, dropLast: true }).dl;
    expect((await collect(again)).map((b) => b.indices)).toEqual(e1); // same seed, same first epoch
    const other = loader(10, { shuffle: true, dropLast: true, seed: 2 }).dl;
    expect((await collect(other)).map((b) => b.indices)).not.toEqual(e1);
  });

  it('keeps one short batch when there are fewer items than bs, even with dropLast', () => {
    const { dl } = loader(3, { dropLast: true });
    expect(dl.length).toBe(1);
  });

  it('prefetches: the next batches decode while the current one is being used', async () => {
    const { dl, platform } = loader(16, { prefetch: 2 });
    platform.decodeDelayMs = 5;
    const it = dl.iterate();
    const first = await it.next();
    // batch 0 was awaited; batches 1 and 2 were started before batch 0 was handed out
    expect(platform.decodeCalls.length).toBe(12);
    first.value!.x.dispose();
    first.value!.y.dispose();
    await it.return();
  });

  it('decodes each image once: later epochs read the cache', async () => {
    const { dl, platform } = loader(10);
    await collect(dl);
    expect(platform.decodeCalls).toHaveLength(10);
    await collect(dl);
    expect(platform.decodeCalls).toHaveLength(10);
  });

  it('leaves no tensor behind across epochs, with augmentation and a normalizer', async () => {
    const { dl } = loader(10, { shuffle: true, augmentation: getTransforms().train });
    dl.normalizer = (x) => tf.div(x, 255);
    await collect(dl);
    const before = tf.memory().numTensors;
    for (let e = 0; e < 3; e++) {
      const batches = await collect(dl);
      expect(Math.max(...batches.map((b) => Math.max(...b.values)))).toBeLessThanOrEqual(1.0001);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('oneBatch looks at the data without changing the epochs that follow', async () => {
    const a = loader(10, { shuffle: true }).dl;
    const b = loader(10, { shuffle: true }).dl;
    const peek = await a.oneBatch();
    tf.dispose([peek.x, peek.y]);
    expect((await collect(a)).map((x) => x.indices)).toEqual((await collect(b)).map((x) => x.indices));
  });

  it('gives each pass new augmentations, reproducible for a seed', async () => {
    const p = new MemoryPlatform(memoryDataset('/d', { train: { a: 4 } }));
    // a non-uniform image so that geometry shows in the pixels
    p.decodeImage = async (_path, t) => ({
      data: Uint8Array.from({ length: t.width * t.height * 3 }, (_, i) => (i * 7) % 256),
      width: t.width,
      height: t.height,
    });
    const mk = () => loader(4, { augmentation: getTransforms().train }, p).dl;
    const a = mk();
    const a1 = (await collect(a))[0]!.values;
    const a2 = (await collect(a))[0]!.values;
    const b1 = (await collect(mk()))[0]!.values;
    expect(Array.from(b1)).toEqual(Array.from(a1));
    expect(Array.from(a2)).not.toEqual(Array.from(a1));
  });
});
