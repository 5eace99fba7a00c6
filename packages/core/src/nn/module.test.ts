import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../models/testing.js';
import { ReLU } from './activation.js';
import { BatchNorm1d, BatchNorm2d } from './batchnorm.js';
import { Conv2d, DepthwiseConv2d } from './conv.js';
import { Dropout } from './dropout.js';
import { StateDictError } from './errors.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { MaxPool2d } from './pooling.js';
import { Sequential } from './sequential.js';

class Block extends Module {
  readonly conv1 = this.registerModule('conv1', new Conv2d(3, 4, 3, { padding: 1, bias: false }));
  readonly bn1 = this.registerModule('bn1', new BatchNorm2d(4));
  readonly head = this.registerModule('head', new Sequential(new ReLU(), new Linear(4, 2)));

  override forward(x: tf.Tensor4D): tf.Tensor {
    return tf.tidy(() => this.head.forward(tf.mean(this.bn1.forward(this.conv1.forward(x)), [1, 2])));
  }
}

async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

describe('Module', () => {
  beforeAll(useWasmBackend);

  it('names parameters and buffers with torch-style dotted paths', () => {
    const m = new Block();
    expect(m.namedParameters().map(([n]) => n)).toEqual([
      'conv1.weight',
      'bn1.weight',
      'bn1.bias',
      'head.1.weight',
      'head.1.bias',
    ]);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked']);
    expect([...m.stateDictShapes()]).toEqual([
      ['conv1.weight', [4, 3, 3, 3]],
      ['bn1.weight', [4]],
      ['bn1.bias', [4]],
      ['bn1.running_mean', [4]],
      ['bn1.running_var', [4]],
      ['bn1.num_batches_tracked', []],
      ['head.1.weight', [2, 4]],
      ['head.1.bias', [2]],
    ]);
    expect(m.numParameters()).toBe(4 * 3 * 9 + 4 + 4 + 8 + 2);
    expect(m.toString()).toContain('(conv1): Conv2d(3, 4, kernel_size=3x3');
    m.dispose();
  });

  it('switches train/eval recursively and sets trainable flags', () => {
    const m = new Block();
    expect(m.modulesList().every((x) => x.training)).toBe(true);
    m.eval();
    expect(m.modulesList().some((x) => x.training)).toBe(false);
    m.train();
    expect(m.bn1.training).toBe(true);
    m.conv1.requiresGrad(false);
    expect(m.trainableParameters().length).toBe(4);
    expect(m.conv1.weight.trainable).toBe(false);
    expect(m.namedBuffers().every(([, b]) => !b.trainable)).toBe(true);
    m.dispose();
  });

  it('round-trips a state dict in torch and native layouts', async () => {
    const a = new Block().eval();
    const b = new Block().eval();
    const x = tf.randomNormal([2, 5, 5, 3]) as tf.Tensor4D;
    for (const layout of ['torch', 'native'] as const) {
      const sd = a.stateDict({ layout });
      b.loadStateDict(sd, { layout });
      tf.dispose([...sd.values()]);
      const [ya, yb] = [a.forward(x), b.forward(x)];
      expect(await values(yb)).toEqual(await values(ya));
      tf.dispose([ya, yb]);
    }
    tf.dispose(x);
    a.dispose();
    b.dispose();
  });

  it('reports missing, unexpected and wrongly shaped keys by name without changing anything', async () => {
    const m = new Block();
    const before = await values(m.conv1.weight);
    const sd = m.stateDict();
    const good = sd.get('conv1.weight')!;
    sd.delete('bn1.bias');
    sd.set('fc.weight', tf.zeros([1]));
    sd.set('head.1.weight', tf.zeros([3, 4]));
    sd.set('conv1.weight', tf.ones([4, 3, 3, 3]));
    let err: unknown;
    try {
      m.loadStateDict(sd);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDictError);
    const e = err as StateDictError;
    expect(e.missingKeys).toEqual(['bn1.bias']);
    expect(e.unexpectedKeys).toEqual(['fc.weight']);
    expect(e.shapeMismatches).toEqual([{ key: 'head.1.weight', expected: [2, 4], actual: [3, 4] }]);
    expect(e.message).toMatch(
      /head\.1\.weight: expected \[2,4\], got \[3,4\].*missing key\(s\): bn1\.bias.*unexpected key\(s\): fc\.weight/s,
    );
    expect(await values(m.conv1.weight)).toEqual(before); // atomic: nothing assigned

    // non-strict: missing/unexpected are returned, shape mismatches still throw
    sd.set('head.1.weight', tf.zeros([2, 4]));
    const r = m.loadStateDict(sd, { strict: false });
    expect(r).toEqual({ missingKeys: ['bn1.bias'], unexpectedKeys: ['fc.weight'] });
    expect(await values(m.conv1.weight)).toEqual(new Array(108).fill(1));
    tf.dispose([...sd.values(), good]);
    m.dispose();
  });

  it('treats num_batches_tracked as optional and casts int64-derived values', () => {
    const bn = new BatchNorm2d(2);
    const sd = bn.stateDict();
    sd.get('num_batches_tracked')!.dispose();
    sd.delete('num_batches_tracked');
    expect(bn.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    sd.set('num_batches_tracked', tf.scalar(7, 'float32'));
    bn.loadStateDict(sd);
    expect(bn.numBatchesTracked.dtype).toBe('int32');
    expect(bn.numBatchesTracked.dataSync()[0]).toBe(7);
    tf.dispose([...sd.values()]);
    bn.dispose();
  });
});

describe('layers follow PyTorch semantics', () => {
  beforeAll(useWasmBackend);

  it('Conv2d loads an OIHW weight and pads symmetrically with stride 2', async () => {
    // 1 input channel, 2 output channels, 3x3 kernel; torch weight [out, in, kh, kw]
    const w = Array.from({ length: 18 }, (_, i) => i + 1);
    const conv = new Conv2d(1, 2, 3, { stride: 2, padding: 1, bias: false });
    conv.loadStateDict({ weight: tf.tensor4d(w, [2, 1, 3, 3]) });
    const xs = Array.from({ length: 16 }, (_, i) => i);
    const x = tf.tensor4d(xs, [1, 4, 4, 1]);
    const y = conv.forward(x);
    expect(y.shape).toEqual([1, 2, 2, 2]);
    // reference: torch.nn.functional.conv2d(x, w, stride=2, padding=1), written out
    const ref: number[] = [];
    for (const [oy, ox] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ] as const) {
      for (let o = 0; o < 2; o++) {
        let s = 0;
        for (let ky = 0; ky < 3; ky++) {
          for (let kx = 0; kx < 3; kx++) {
            const iy = oy * 2 - 1 + ky;
            const ix = ox * 2 - 1 + kx;
            if (iy >= 0 && iy < 4 && ix >= 0 && ix < 4) s += xs[iy * 4 + ix]! * w[o * 9 + ky * 3 + kx]!;
          }
        }
        ref.push(s);
      }
    }
    expect(await values(y)).toEqual(ref);
    tf.dispose([x, y]);
    conv.dispose();
  });

  it('DepthwiseConv2d loads a grouped-conv weight [c*m, 1, kh, kw]', async () => {
    const c = 2;
    const m = 2;
    const w = Array.from({ length: c * m * 4 }, (_, i) => (i % 7) - 3);
    const dw = new DepthwiseConv2d(c, 2, { depthMultiplier: m });
    dw.loadStateDict({ weight: tf.tensor4d(w, [c * m, 1, 2, 2]) });
    const xs = Array.from({ length: 3 * 3 * c }, (_, i) => i * 0.5);
    const x = tf.tensor4d(xs, [1, 3, 3, c]);
    const y = dw.forward(x);
    expect(y.shape).toEqual([1, 2, 2, c * m]);
    // torch conv2d(groups=c): output channel o reads input channel floor(o / m)
    const ref: number[] = [];
    for (let oy = 0; oy < 2; oy++) {
      for (let ox = 0; ox < 2; ox++) {
        for (let o = 0; o < c * m; o++) {
          let s = 0;
          for (let ky = 0; ky < 2; ky++) {
            for (let kx = 0; kx < 2; kx++) s += xs[((oy + ky) * 3 + ox + kx) * c + Math.floor(o / m)]! * w[o * 4 + ky * 2 + kx]!;
          }
          ref.push(s);
        }
      }
    }
    const got = await values(y);
    got.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 4));
    // and back to torch layout
    const sd = dw.stateDict();
    expect(await values(sd.get('weight')!)).toEqual(w);
    tf.dispose([x, y, ...sd.values()]);
    dw.dispose();
  });

  it('Linear loads an [out, in] weight', async () => {
    const lin = new Linear(3, 2);
    lin.loadStateDict({ weight: tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), bias: tf.tensor1d([10, 20]) });
    const y = lin.forward(tf.tensor2d([1, 1, 2], [1, 3]));
    expect(await values(y)).toEqual([1 + 2 + 6 + 10, 4 + 5 + 12 + 20]);
    y.dispose();
    lin.dispose();
  });

  it('MaxPool2d pads with -inf symmetrically (torch), not like TF same', async () => {
    const x = tf.tensor4d(
      Array.from({ length: 16 }, (_, i) => -i),
      [1, 4, 4, 1],
    );
    const y = new MaxPool2d(3, 2, 1).forward(x);
    // torch: windows start at -1 (rows/cols {-1,0,1} and {1,2,3}); TF 'same' would give [-0, -2, -8, -10]
    expect(await values(y)).toEqual([-0, -1, -4, -5]);
    tf.dispose([x, y]);
  });

  it('BatchNorm2d uses batch statistics in training and updates running stats like torch', async () => {
    const bn = new BatchNorm2d(2, { eps: 1e-5 });
    const data = [1, 10, 2, 20, 3, 30, 6, 60]; // [2,2,1,2] NHWC: channel 0 = 1,2,3,6; channel 1 = 10x
    const x = tf.tensor4d(data, [2, 2, 1, 2]);
    const y = bn.forward(x);
    const c0 = [1, 2, 3, 6];
    const mean = 3;
    const varBiased = c0.reduce((a, v) => a + (v - mean) ** 2, 0) / 4; // 3.5
    const got = await values(y);
    expect(got[0]).toBeCloseTo((1 - mean) / Math.sqrt(varBiased + 1e-5), 4);
    expect(got[1]).toBeCloseTo((10 - 30) / Math.sqrt(varBiased * 100 + 1e-5), 4);
    const rm = await values(bn.runningMean);
    const rv = await values(bn.runningVar);
    expect(rm[0]).toBeCloseTo(0.1 * mean, 5);
    expect(rv[0]).toBeCloseTo(0.9 + 0.1 * ((varBiased * 4) / 3), 5); // unbiased variance
    expect(rv[1]).toBeCloseTo(0.9 + 0.1 * ((varBiased * 100 * 4) / 3), 3);
    expect(bn.numBatchesTracked.dataSync()[0]).toBe(1);
    bn.eval();
    const ye = bn.forward(x);
    expect((await values(ye))[0]).toBeCloseTo((1 - rm[0]!) / Math.sqrt(rv[0]! + 1e-5), 4);
    expect(bn.numBatchesTracked.dataSync()[0]).toBe(1);
    tf.dispose([x, y, ye]);
    bn.dispose();
  });

  it('BatchNorm rejects inputs it cannot normalize', () => {
    const bn = new BatchNorm1d(3);
    expect(() => bn.forward(tf.zeros([4, 2]))).toThrow(/BatchNorm1d\(3\) expects a rank-2 input with 3 channels/);
    expect(() => bn.forward(tf.zeros([1, 3]))).toThrow(/more than one value per channel/);
    bn.dispose();
  });

  it('Dropout drops only in training mode', async () => {
    const d = new Dropout(0.5);
    const x = tf.ones([1000]);
    const yt = d.forward(x);
    const v = await values(yt);
    expect(v.filter((a) => a === 0).length).toBeGreaterThan(300);
    expect(v.filter((a) => a === 2).length).toBeGreaterThan(300);
    d.eval();
    expect(d.forward(x)).toBe(x);
    expect(() => new Dropout(1)).toThrow(/p must be in \[0, 1\)/);
    tf.dispose([x, yt]);
  });
});
