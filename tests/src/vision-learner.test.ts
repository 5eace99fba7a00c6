/**
 * cnnLearner on real data and real pretrained weights (MobileNet v1 0.25 from the shared cache, doraemon-walle
 * JPEGs at a small size): fast.ai's head and its init, freezing with trainable BatchNorm, export/loadLearner.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BatchNorm1d, type Linear, type Sequential } from '@fastts/core/nn';
import {
  ImageDataLoaders,
  accuracy,
  cnnLearner,
  decodeImageFile,
  getTransforms,
  loadLearner,
  loadPretrained,
  type DataBunch,
  type VisionLearner,
} from '@fastts/node-gpu';
import { MemoryStorage, currentPlatform, registerPretrainedLoader } from '@fastts/core/platform';
import { type PretrainedWeights } from '@fastts/core/weights';
import { DORAEMON_WALLE, WEIGHTS_HOME, requireShared } from '../../test-support/shared.js';
import { setupTestBackend } from './backend.js';

const ARCH = 'mobilenet_v1_0.25_224';
let data: DataBunch;
let weights: PretrainedWeights;

beforeAll(async () => {
  requireShared();
  await setupTestBackend();
  data = await ImageDataLoaders.fromFolder(DORAEMON_WALLE, { test: 'test', tfms: getTransforms(), size: 64, bs: 32, seed: 7 });
  weights = await loadPretrained(ARCH, { home: WEIGHTS_HOME, offline: true });
});

const snapshot = (pairs: Array<[string, tf.Variable]>) => new Map(pairs.map(([n, v]) => [n, Float32Array.from(v.dataSync())]));
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('cnnLearner', () => {
  let learn: VisionLearner;
  beforeAll(async () => {
    learn = await cnnLearner(data, ARCH, { metrics: [accuracy], weights });
  });

  it("builds the pretrained body plus fast.ai's head, initialized as fast.ai does", () => {
    const head = (learn.model as Sequential).at(1) as Sequential;
    const kinds = head.children().map((m) => m.constructor.name);
    expect(kinds).toEqual([
      'AdaptiveConcatPool2d',
      'Flatten',
      'BatchNorm1d',
      'Dropout',
      'Linear',
      'ReLU',
      'BatchNorm1d',
      'Dropout',
      'Linear',
    ]);
    const lin1 = head.at(4) as Linear;
    const lin2 = head.at(8) as Linear;
    expect([lin1.inFeatures, lin1.outFeatures, lin2.inFeatures, lin2.outFeatures]).toEqual([512, 512, 512, 2]); // nf = 256, concat pool
    expect(Array.from(lin1.bias!.dataSync()).every((v) => v === 0)).toBe(true);
    // kaiming normal (fan_in): std sqrt(2/512) = 0.0625
    const w = Array.from(lin1.weight.dataSync());
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.055);
    expect(std).toBeLessThan(0.07);
    const bn = head.at(2) as BatchNorm1d;
    expect(Array.from(bn.weight.dataSync()).every((v) => v === 1)).toBe(true);
    expect(learn.nGroups).toBe(3);
    // the body carries the pretrained weights
    const first = learn.model.namedParameters()[0]!;
    const ref = weights.stateDict.get(first[0].replace(/^0\./, ''));
    expect(ref).toBeDefined();
  });

  it('freezes the body except BatchNorm: body weights stay bit-identical, BatchNorm params and statistics move', async () => {
    const trainable = new Set(learn.trainableParameterNames());
    const frozen = learn.model.namedParameters().filter(([n]) => !trainable.has(n));
    expect(frozen.length).toBeGreaterThan(0);
    expect(frozen.every(([n]) => n.startsWith('0.'))).toBe(true);
    const bodyBn = learn.model.namedParameters().filter(([n]) => n.startsWith('0.') && trainable.has(n));
    expect(bodyBn.length).toBeGreaterThan(0);
    const p0 = snapshot(learn.model.namedParameters());
    const b0 = snapshot(learn.model.namedBuffers());
    await learn.fitOneCycle(1);
    const p1 = snapshot(learn.model.namedParameters());
    const b1 = snapshot(learn.model.namedBuffers());
    for (const [n] of frozen) expect(same(p0.get(n)!, p1.get(n)!), n).toBe(true);
    const movedBn = bodyBn.filter(([n]) => !same(p0.get(n)!, p1.get(n)!));
    expect(movedBn.length).toBe(bodyBn.length);
    const stats = [...b0.keys()].filter((n) => n.startsWith('0.') && /running_(mean|var)$/.test(n));
    expect(stats.length).toBeGreaterThan(0);
    expect(stats.every((n) => !same(b0.get(n)!, b1.get(n)!))).toBe(true);
  });

  it('exports for inference: loadLearner predicts what the learner predicts, without the data', async () => {
    const storage = new MemoryStorage();
    learn.storage = storage;
    const file = await learn.export('model/export.safetensors');
    const inf = await loadLearner(storage, file);
    expect(inf.classes).toEqual(['doraemon', 'walle']);
    expect(inf.arch).toBe(ARCH);
    const { probs, items } = await learn.getPreds({ ds: 'test' });
    const target = inf.decodeTarget!;
    for (const [i, item] of items.slice(0, 2).entries()) {
      const img = await decodeImageFile(item, target);
      const a = await inf.predict(img);
      const b = await learn.predict(img);
      expect(a.probs[0]).toBeCloseTo(b.probs[0]!, 5);
      expect(a.probs[0]).toBeCloseTo(probs[i]![0]!, 4);
    }
    inf.dispose();
  });

  it('loads pretrained weights through the platform loader when none are passed, else explains what to pass', async () => {
    const platformLoader = currentPlatform().loadPretrained;
    registerPretrainedLoader(undefined);
    try {
      await expect(cnnLearner(data, ARCH)).rejects.toThrow(
        /no platform provides them\. Import '@fastts\/node-gpu'.*pass \{ weights \}/,
      );
      registerPretrainedLoader((arch) => loadPretrained(arch, { home: WEIGHTS_HOME, offline: true }));
      const auto = await cnnLearner(data, ARCH);
      const explicit = await cnnLearner(data, ARCH, { weights });
      const a = snapshot(auto.model.namedParameters().filter(([n]) => n.startsWith('0.')));
      const b = snapshot(explicit.model.namedParameters().filter(([n]) => n.startsWith('0.')));
      expect(a.size).toBeGreaterThan(50);
      for (const [n, v] of a) expect(same(v, b.get(n)!), n).toBe(true);
      auto.model.dispose();
      explicit.model.dispose();
    } finally {
      registerPretrainedLoader(platformLoader);
    }
  });
});

describe('one seed for the whole run', () => {
  /** fromFolder with `seed`, cnnLearner (seeded from the data), one one-cycle epoch: the recorder's numbers. */
  async function seededRun(seed: number) {
    const d = await ImageDataLoaders.fromFolder(DORAEMON_WALLE, { tfms: getTransforms(), size: 64, bs: 32, seed });
    const learn = await cnnLearner(d, ARCH, { metrics: [accuracy], weights, quiet: true });
    try {
      expect(learn.seed).toBe(seed);
      await learn.fitOneCycle(1, 1e-2);
      const r = learn.recorder;
      return { losses: [...r.losses], rows: r.rows.map(({ seconds: _, ...row }) => row) };
    } finally {
      await learn.dispose();
      learn.model.dispose();
    }
  }

  it('the same data seed twice gives the same losses and metrics (shuffle, augmentation, head init, dropout); another seed does not', async () => {
    const a = await seededRun(11);
    const b = await seededRun(11);
    const c = await seededRun(12);
    expect(b).toEqual(a);
    expect(c.losses).not.toEqual(a.losses);
  });
});
