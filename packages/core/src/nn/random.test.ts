import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Dropout } from './dropout.js';
import { kaimingNormalFanIn, torchDefaultBias, torchDefaultInit } from './init.js';
import { Linear } from './linear.js';
import { TensorRandom, seedDropout, setSeed, tensorRandom, withSeed } from './random.js';
import { Sequential } from './sequential.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const values = (t: tf.Tensor): number[] => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

/** The masks (1 kept, 0 dropped) `n` training forward passes of `layer` draw over 64 ones. */
function masks(layer: Dropout, n: number): number[][] {
  layer.train();
  return Array.from({ length: n }, () => tf.tidy(() => values(layer.forward(tf.ones([64]))).map((v) => (v > 0 ? 1 : 0))));
}

describe('TensorRandom', () => {
  it('gives the same seeds for the same seed parts, others for other parts, always in [1, 2^32)', () => {
    const a = new TensorRandom(7, 1);
    const b = new TensorRandom(7, 1);
    const c = new TensorRandom(7, 2);
    const sa = Array.from({ length: 1000 }, () => a.nextSeed());
    expect(Array.from({ length: 1000 }, () => b.nextSeed())).toEqual(sa);
    expect(Array.from({ length: 1000 }, () => c.nextSeed())).not.toEqual(sa);
    expect(sa.every((s) => Number.isInteger(s) && s >= 1 && s < 2 ** 32)).toBe(true);
  });
});

describe('seeded initialization', () => {
  it('withSeed makes every initializer reproducible and restores the source it replaced', () => {
    const draw = () => [
      ...values(kaimingNormalFanIn([16, 8])),
      ...values(torchDefaultInit([3, 3, 4, 4])),
      ...values(torchDefaultBias(8, 4)),
    ];
    const outer = tensorRandom();
    const a = withSeed(11, draw);
    const b = withSeed(11, draw);
    const c = withSeed([11, 1], draw);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(tensorRandom()).toBe(outer);
  });

  it('setSeed seeds the global source (fast.ai set_seed): layers built after it are the same every time', () => {
    setSeed(3);
    const a = values(new Linear(8, 4).weight.clone());
    setSeed(3);
    const b = values(new Linear(8, 4).weight.clone());
    expect(b).toEqual(a);
  });
});

describe('seeded Dropout', () => {
  it('draws its masks from its own stream: the same per seed, new ones every pass, scaled by 1/(1-p)', () => {
    const a = withSeed(5, () => new Dropout(0.5));
    const b = withSeed(5, () => new Dropout(0.5));
    const ma = masks(a, 3);
    expect(masks(b, 3)).toEqual(ma);
    expect(ma[1]).not.toEqual(ma[0]);
    const kept = ma.flat().filter((v) => v === 1).length / ma.flat().length;
    expect(kept).toBeGreaterThan(0.35);
    expect(kept).toBeLessThan(0.65);
    const scaled = tf.tidy(() => values(a.forward(tf.ones([64]))));
    expect(scaled.every((v) => v === 0 || Math.abs(v - 2) < 1e-6)).toBe(true);
    a.eval();
    expect(tf.tidy(() => values(a.forward(tf.ones([64]))))).toEqual(new Array(64).fill(1));
  });

  it("does not depend on other layers' draws: a layer's masks follow its seed, not the order of forward passes", () => {
    const [a1, a2] = withSeed(9, () => [new Dropout(0.3), new Dropout(0.3)]);
    const [b1, b2] = withSeed(9, () => [new Dropout(0.3), new Dropout(0.3)]);
    const first = masks(a1, 2);
    masks(b2, 5); // other layer draws first
    expect(masks(b1, 2)).toEqual(first);
    expect(masks(a2, 1)).not.toEqual(masks(a1, 1));
  });

  it('seedDropout restarts every Dropout of a model from seed parts plus the layer index', () => {
    const model = new Sequential(new Dropout(0.5), new Linear(64, 64), new Dropout(0.5));
    const [d0, , d1] = [model.at(0), model.at(1), model.at(2)] as [Dropout, Linear, Dropout];
    seedDropout(model, 1, 2, 3);
    const m0 = masks(d0, 2);
    const m1 = masks(d1, 2);
    expect(m1).not.toEqual(m0);
    seedDropout(model, 1, 2, 3);
    expect(masks(d0, 2)).toEqual(m0);
    expect(masks(d1, 2)).toEqual(m1);
    const ref = new Dropout(0.5);
    ref.reseed(1, 2, 3, 1);
    expect(masks(ref, 2)).toEqual(m1);
    seedDropout(model, 1, 2, 4);
    expect(masks(d0, 2)).not.toEqual(m0);
  });
});
