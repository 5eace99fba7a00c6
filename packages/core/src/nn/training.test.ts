/**
 * The module system inside gradient computations: BatchNorm statistics update during optimizer.minimize without
 * leaking tensors, and the eval-mode conv+BatchNorm folding never hides gradients.
 * Runs on the cpu backend (small shapes) because it needs convolution gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import '../gradients.js';
import { BatchNorm2d } from './batchnorm.js';
import { Conv2d, DepthwiseConv2d } from './conv.js';
import { Module } from './module.js';

class ConvBn extends Module {
  readonly conv = this.registerModule('conv', new Conv2d(2, 3, 3, { stride: 2, padding: 1, bias: false }));
  readonly bn = this.registerModule('bn', new BatchNorm2d(3));
  readonly dw = this.registerModule('dw', new DepthwiseConv2d(3, 3, { padding: 'same' }));
  readonly bn2 = this.registerModule('bn2', new BatchNorm2d(3));

  override forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.dw.forwardBn(this.conv.forwardBn(x, this.bn, 'relu'), this.bn2, 'relu6'));
  }
}

const loss = (m: Module, x: tf.Tensor4D) => (): tf.Scalar => tf.mean(tf.square(m.forward(x))) as tf.Scalar;

describe('modules under gradient computation', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('updates BatchNorm running stats inside optimizer.minimize, once per step, without leaks', async () => {
    const m = new ConvBn();
    const x = tf.randomNormal([4, 6, 6, 2]) as tf.Tensor4D;
    const opt = tf.train.sgd(0.1);
    const step = (): void => {
      const cost = opt.minimize(loss(m, x), true, m.trainableParameters());
      cost?.dispose();
    };
    step(); // the optimizer creates its own state on the first step
    const tensors = tf.memory().numTensors;
    const w0 = Array.from(await m.conv.weight.data());
    const rm0 = Array.from(await m.bn.runningMean.data());
    step();
    step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(m.bn.numBatchesTracked.dataSync()[0]).toBe(3);
    expect(Array.from(await m.bn.runningMean.data())).not.toEqual(rm0);
    expect(Array.from(await m.conv.weight.data())).not.toEqual(w0);
    opt.dispose();
    x.dispose();
    m.dispose();
  });

  it('frozen parameters get no update while BatchNorm stays trainable', async () => {
    const m = new ConvBn();
    m.conv.requiresGrad(false);
    const x = tf.randomNormal([2, 6, 6, 2]) as tf.Tensor4D;
    const { value, grads } = tf.variableGrads(loss(m, x), m.trainableParameters());
    expect(Object.keys(grads).length).toBe(m.trainableParameters().length);
    expect(m.conv.weight.trainable).toBe(false);
    tf.dispose([value, ...Object.values(grads), x]);
    m.dispose();
  });

  it('eval-mode folding gives the unfused result and is rebuilt when weights change', async () => {
    const m = new ConvBn();
    const x = tf.randomNormal([2, 6, 6, 2]) as tf.Tensor4D;
    // non-trivial statistics
    for (let i = 0; i < 3; i++) m.forward(x).dispose();
    m.eval();
    const unfused = (): tf.Tensor =>
      tf.tidy(() => tf.relu6(m.bn2.forward(m.dw.forward(tf.relu(m.bn.forward(m.conv.forward(x)))))));
    const ref = unfused();
    const fused = m.forward(x);
    expect(tf.max(tf.abs(tf.sub(ref, fused))).dataSync()[0]).toBeLessThan(1e-5);
    const before = tf.memory().numTensors;
    m.forward(x).dispose(); // cached folds are reused: no new tensors
    expect(tf.memory().numTensors).toBe(before);
    m.bn.weight.assign(tf.mul(m.bn.weight, 2));
    const ref2 = unfused();
    const fused2 = m.forward(x);
    expect(tf.max(tf.abs(tf.sub(ref2, fused2))).dataSync()[0]).toBeLessThan(1e-5);
    expect(tf.max(tf.abs(tf.sub(ref, ref2))).dataSync()[0]).toBeGreaterThan(1e-3);
    tf.dispose([ref, fused, ref2, fused2, x]);
    m.dispose();
  });

  it('gradients in eval mode reach the conv weights (no folding under a tape)', () => {
    const m = new ConvBn().eval();
    const x = tf.randomNormal([2, 6, 6, 2]) as tf.Tensor4D;
    const { value, grads } = tf.variableGrads(loss(m, x), [m.conv.weight, m.dw.weight, m.bn.weight]);
    expect(Object.keys(grads)).toHaveLength(3);
    for (const g of Object.values(grads)) expect(tf.sum(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads), x]);
    m.dispose();
  });
});

describe('Conv2d with bias in training mode (the FusedConv2D kernel with per-input gradients)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [stride, padding] of [
    [1, 1],
    [2, 'same'],
    [1, 'valid'],
  ] as Array<[number, 1 | 'same' | 'valid']>) {
    it(`gives conv + add's output and gradients (stride ${stride}, padding ${padding})`, () => {
      const conv = new Conv2d(3, 4, 3, { stride, padding });
      conv.train();
      const x = tf.randomNormal([2, 7, 6, 3]) as tf.Tensor4D;
      const target = (y: tf.Tensor): tf.Scalar => tf.sum(tf.mul(y, tf.sin(y))) as tf.Scalar;
      const reference = (xs: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D): tf.Tensor =>
        tf.add(tf.conv2d(xs, w, stride, conv.pad, 'NHWC'), b);
      const [gx, gw, gb] = tf.grads((xs, _w, _b) => target(conv.forward(xs as tf.Tensor4D)) as tf.Scalar)([
        x,
        conv.weight,
        conv.bias!,
      ]);
      const [rx, rw, rb] = tf.grads((xs, w, b) => target(reference(xs as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D)))([
        x,
        conv.weight,
        conv.bias!,
      ]);
      const close = (a: tf.Tensor, b: tf.Tensor): void => expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-4);
      close(conv.forward(x), reference(x, conv.weight as tf.Tensor4D, conv.bias as tf.Tensor1D));
      close(gx!, rx!);
      close(gw!, rw!);
      close(gb!, rb!);
      tf.dispose([x, gx!, gw!, gb!, rx!, rw!, rb!]);
      conv.dispose();
    });
  }

  it("computes neither a frozen filter's gradient nor the input's", async () => {
    const conv = new Conv2d(3, 4, 3, { padding: 1 });
    conv.train();
    const x = tf.randomNormal([2, 6, 6, 3]) as tf.Tensor4D;
    const kernels = async (vars: tf.Variable[]): Promise<string[]> => {
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(conv.forward(x))) as tf.Scalar, vars);
        return [value, ...Object.values(grads)];
      });
      return info.kernels.map((k) => k.name);
    };
    const all = await kernels([conv.weight as tf.Variable, conv.bias as tf.Variable]);
    expect(all).toContain('Conv2DBackpropFilter');
    expect(all).not.toContain('Conv2DBackpropInput');
    const biasOnly = await kernels([conv.bias as tf.Variable]);
    expect(biasOnly).not.toContain('Conv2DBackpropFilter');
    expect(biasOnly).not.toContain('Conv2DBackpropInput');
    x.dispose();
    conv.dispose();
  });
});

describe('dispose', () => {
  it('releases variables and cached inference folds', () => {
    const before = tf.memory().numTensors;
    const m = new ConvBn().eval();
    const x = tf.randomNormal([1, 6, 6, 2]) as tf.Tensor4D;
    m.forward(x).dispose();
    m.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
