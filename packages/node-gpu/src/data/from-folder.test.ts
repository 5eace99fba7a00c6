import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTransforms, imagenetStats } from '@fastts/core';
import { DORAEMON_WALLE, requireShared } from '../../../../test-support/shared.js';
import { fromFolder, ImageDataLoaders, loadImageBatch } from './index.js';
import { smallDataset, tempDir } from './test-images.test-util.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
beforeAll(async () => {
  requireShared();
  await tf.setBackend('wasm');
});

describe('fromFolder on doraemon-walle (the tutorial data set)', () => {
  it('finds exactly 2 classes, 279 train, 33 valid and 6 unlabelled test items', async () => {
    const data = await ImageDataLoaders.fromFolder(DORAEMON_WALLE, { test: 'test', size: 224, tfms: getTransforms() });
    expect(data.classes).toEqual(['doraemon', 'walle']);
    expect(data.c).toBe(2);
    expect(data.trainDl.n).toBe(279);
    expect(data.validDl.n).toBe(33);
    expect(data.testDl?.n).toBe(6);
    expect(data.trainDl.labels.filter((l) => l === 0)).toHaveLength(141);
    expect(data.validDl.labels.filter((l) => l === 1)).toHaveLength(17);
    expect(data.testDl?.items.map((p) => p.split('/').pop())).toEqual([
      'doraemon.113.jpg',
      'doraemon.123.jpg',
      'doraemon.137.jpg',
      'walle.113.jpg',
      'walle.123.jpg',
      'walle.137.jpg',
    ]);
    expect(data.testDl?.labels).toEqual([-1, -1, -1, -1, -1, -1]);
    expect(data.skipped).toEqual([]);
    expect(data.warnings).toEqual([]);
    expect(data.trainDl.length).toBe(4); // 279 / 64, last incomplete batch dropped
    expect(data.validDl.length).toBe(1);
  });

  it('validPct 0.2 with seed 42 gives the same split on every run and another split for another seed', async () => {
    const opts = { validPct: 0.2, seed: 42, test: 'test' };
    const a = await fromFolder(DORAEMON_WALLE, opts);
    const b = await fromFolder(DORAEMON_WALLE, opts);
    const c = await fromFolder(DORAEMON_WALLE, { ...opts, seed: 43 });
    expect(a.validDl.n).toBe(62); // floor(0.2 * (279 + 33)): the labelled pool is every image but test/
    expect(a.trainDl.n).toBe(250);
    expect(b.validDl.items).toEqual(a.validDl.items);
    expect(b.trainDl.items).toEqual(a.trainDl.items);
    expect(c.validDl.items).not.toEqual(a.validDl.items);
    expect(new Set([...a.trainDl.items, ...a.validDl.items]).size).toBe(312);
    expect(a.classes).toEqual(['doraemon', 'walle']);
  });

  it('loadImageBatch gives files exactly the validation preprocessing', async () => {
    const data = await fromFolder(DORAEMON_WALLE, { size: 96, bs: 4, test: 'test' });
    const fromLoader = await data.testDl!.oneBatch();
    const direct = await loadImageBatch(data.testDl!.items.slice(0, 4), { size: 96 });
    expect(direct.shape).toEqual([4, 96, 96, 3]);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(direct, fromLoader.x))).dataSync()[0])).toBe(0);
    tf.dispose([direct, fromLoader.x, fromLoader.y]);
  });

  it("takes other folder names: valid: 'val'", async () => {
    smallDataset(tmp.dir, 'val');
    const data = await fromFolder(tmp.dir, { valid: 'val' });
    expect(data.validDl.n).toBe(2);
    expect(data.validDl.items[0]).toBe(join(tmp.dir, 'val', 'doraemon', '3.jpg'));
  });

  it('serves augmented training batches and normalized batches, and leaks no tensor across epochs', async () => {
    const data = await fromFolder(DORAEMON_WALLE, { size: 64, bs: 32, tfms: getTransforms(), seed: 1 });
    const first = await data.trainDl.oneBatch();
    expect(first.x.shape).toEqual([32, 64, 64, 3]);
    expect(first.x.dtype).toBe('float32');
    expect(first.y.dtype).toBe('int32');
    expect(Array.from(await first.y.data())).toEqual(first.indices.map((i) => data.trainDl.labels[i]));
    const [lo, hi] = tf.tidy(() => [tf.min(first.x).dataSync()[0]!, tf.max(first.x).dataSync()[0]!]);
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(255);
    expect(hi).toBeGreaterThan(200);
    tf.dispose([first.x, first.y]);

    data.normalize(imagenetStats);
    const before = tf.memory().numTensors;
    for (let epoch = 0; epoch < 2; epoch++) {
      let images = 0;
      for await (const { x, y } of data.trainDl) {
        images += x.shape[0];
        if (epoch === 1) {
          const m = tf.tidy(() => tf.mean(x).dataSync()[0]!);
          expect(Math.abs(m)).toBeLessThan(1.5); // normalized, not 0..255
        }
        tf.dispose([x, y]);
      }
      expect(images).toBe(256); // 8 full batches of 32; the last 23 items dropped
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});
