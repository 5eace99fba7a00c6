import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from './optimizer.js';
import { CheckpointError, HyperParameterError } from './errors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('AdamW', () => {
  it('matches torch.optim.AdamW(betas=(0.9,0.99), eps=1e-5, weight_decay=0.01) over two steps, beta1 changed by a scheduler', () => {
    const p = tf.variable(tf.tensor1d([0.5, -1.0, 2.0]));
    const opt = new AdamW([[{ name: 'p', variable: p }]], { lr: 0.01, mom: 0.9 });
    const g1 = tf.tensor1d([0.1, -0.2, 0.3]);
    opt.step({ p: g1 });
    // reference values printed by torch 1.13 (float64)
    values(p).forEach((v, i) => expect(v).toBeCloseTo([0.48995099990001, -0.9899004999750013, 1.9898003333222227][i]!, 6));
    opt.setHypers({ lr: 0.02, mom: 0.8 });
    const g2 = tf.tensor1d([-0.05, 0.4, 0.0]);
    opt.step(new Map([['p', g2]]));
    values(p).forEach((v, i) => expect(v).toBeCloseTo([0.49126041172733764, -1.0009289073038723, 1.9831014252078092][i]!, 6));
    expect(opt.stepCount('p')).toBe(2);
    tf.dispose([p, g1, g2]);
    opt.dispose();
  });

  it('uses one learning rate per group and skips parameters without a gradient (frozen)', () => {
    const a = tf.variable(tf.tensor1d([1, 1]));
    const b = tf.variable(tf.tensor1d([1, 1]));
    const frozen = tf.variable(tf.tensor1d([3, 3]));
    const opt = new AdamW(
      [
        [
          { name: 'a', variable: a },
          { name: 'frozen', variable: frozen },
        ],
        [{ name: 'b', variable: b }],
      ],
      {
        lr: [0.001, 0.1],
        wd: 0,
      },
    );
    const g = tf.tensor1d([1, -1]);
    opt.step({ a: g, b: g });
    // first Adam step moves each weight by lr * sign(g) (up to eps)
    values(a).forEach((v, i) => expect(v).toBeCloseTo(1 - 0.001 * (i === 0 ? 1 : -1), 6));
    values(b).forEach((v, i) => expect(v).toBeCloseTo(1 - 0.1 * (i === 0 ? 1 : -1), 5));
    expect(values(frozen)).toEqual([3, 3]);
    expect(opt.stepCount('frozen')).toBe(0);
    tf.dispose([a, b, frozen, g]);
    opt.dispose();
  });

  it('decays weights without a gradient signal (true weight decay), and can spare BatchNorm/bias params', () => {
    const w = tf.variable(tf.tensor1d([2]));
    const bn = tf.variable(tf.tensor1d([2]));
    const opt = new AdamW(
      [
        [
          { name: 'w', variable: w },
          { name: 'bn', variable: bn, bnOrBias: true },
        ],
      ],
      { lr: 0.1, wd: 0.5, wdBnBias: false },
    );
    const zero = tf.tensor1d([0]);
    opt.step({ w: zero, bn: zero });
    expect(values(w)[0]).toBeCloseTo(2 * (1 - 0.1 * 0.5), 6);
    expect(values(bn)[0]).toBeCloseTo(2, 6);
    tf.dispose([w, bn, zero]);
    opt.dispose();
  });

  it('restores its state exactly: the next update is the same as without save/restore', () => {
    const mk = () =>
      tf.variable(
        tf.tensor2d([
          [0.3, -0.7],
          [1.1, 0.2],
        ]),
      );
    const g = tf.tensor2d([
      [0.5, -0.1],
      [0.2, 0.9],
    ]);
    const p1 = mk();
    const o1 = new AdamW([[{ name: 'w', variable: p1 }]], { lr: 0.05 });
    o1.step({ w: g });
    const saved = o1.stateDict();
    const p2 = tf.variable(tf.clone(p1));
    const o2 = new AdamW([[{ name: 'w', variable: p2 }]], { lr: 0.05 });
    o2.loadStateDict(saved);
    o1.step({ w: g });
    o2.step({ w: g });
    expect(values(p2)).toEqual(values(p1));
    expect(saved.meta.steps).toEqual({ w: 1 });
    tf.dispose(Object.values(saved.tensors));
    tf.dispose([p1, p2, g]);
    o1.dispose();
    o2.dispose();
  });

  it('frees its moments: no tensors left after dispose', () => {
    const before = tf.memory().numTensors;
    const p = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
    const g = tf.tensor1d([1, 1, 1]);
    const opt = new AdamW([[{ name: 'p', variable: p }]]);
    for (let i = 0; i < 3; i++) opt.step({ p: g });
    opt.dispose();
    tf.dispose([p, g]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('explains bad inputs', () => {
    const p = tf.variable(tf.tensor1d([1, 2]));
    const opt = new AdamW([[{ name: 'p', variable: p }]]);
    const g = tf.tensor1d([1, 2, 3]);
    expect(() => opt.step({ p: g })).toThrow(/gradient of "p" has shape \[3\] but the parameter has \[2\]/);
    expect(() => opt.step({ q: g })).toThrow(HyperParameterError);
    expect(() => opt.setHypers({ lr: [1, 2] })).toThrow(/2 values of lr for 1 parameter groups/);
    expect(() =>
      opt.loadStateDict({
        tensors: {},
        meta: { lrs: [1], moms: [0.9], beta2: 0.99, eps: 1e-5, wd: 0.01, wdBnBias: true, steps: { x: 1 } },
      }),
    ).toThrow(CheckpointError);
    tf.dispose([p, g]);
    opt.dispose();
  });
});
