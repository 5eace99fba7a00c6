import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import '../gradients.js';
import { batchNormTrain } from './batchnorm-train.js';
import { registerMissingKernels, unregisterComposedKernels } from './register.js';

function maxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let d = 0;
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    d = Math.max(d, Math.abs(x[i]! - y[i]!));
    s = Math.max(s, Math.abs(y[i]!));
  }
  return d / Math.max(s, 1e-30);
}

/** tfjs' own formulation: moments + batchNorm, differentiated by tfjs. */
function reference(x: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor {
  const axes = [...Array(x.rank - 1).keys()];
  const { mean, variance } = tf.moments(x, axes);
  return tf.batchNorm(x, mean, variance, b, g, eps);
}

describe('batchNormTrain', () => {
  for (const backend of ['cpu', 'wasm', 'wasm+simd']) {
    for (const shape of [
      [4, 7, 5, 6],
      [9, 11],
      [3, 9, 7, 16],
      [20, 24],
    ]) {
      it(`matches moments + batchNorm and their gradients on ${backend}, input [${shape.join(',')}]`, async () => {
        await tf.setBackend(backend === 'cpu' ? 'cpu' : 'wasm');
        // wasm+simd: the SIMD statistics/backward kernels (channels a multiple of 8 take them)
        if (backend === 'wasm+simd') registerMissingKernels('wasm');
        else unregisterComposedKernels('wasm');
        tf.tidy(() => {
          const c = shape[shape.length - 1]!;
          // A non-zero mean and unequal scales per channel, as conv outputs have.
          const x = tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 1), tf.linspace(0.5, 3, c)), tf.linspace(-2, 4, c));
          const g = tf.randomNormal([c], 1, 0.3, 'float32', 2) as tf.Tensor1D;
          const b = tf.randomNormal([c], 0, 0.3, 'float32', 3) as tf.Tensor1D;
          const dy = tf.randomNormal(shape, 0, 1, 'float32', 4);
          const eps = 1e-5;
          const loss =
            (f: (xx: tf.Tensor, gg: tf.Tensor1D, bb: tf.Tensor1D) => tf.Tensor) =>
            (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
              tf.sum(tf.mul(f(xx, gg as tf.Tensor1D, bb as tf.Tensor1D), dy));
          const mine = (xx: tf.Tensor, gg: tf.Tensor1D, bb: tf.Tensor1D): tf.Tensor => {
            const r = batchNormTrain(xx, gg, bb, eps);
            r.mean.dispose();
            r.variance.dispose();
            return r.y;
          };
          const want = tf.grads(loss((xx, gg, bb) => reference(xx, gg, bb, eps)))([x, g, b]);
          const got = tf.grads(loss(mine))([x, g, b]);
          want.forEach((w, i) => expect(maxRelDiff(got[i]!, w)).toBeLessThan(1e-4));
          const r = batchNormTrain(x, g, b, eps);
          const ref = tf.moments(x, [...Array(x.rank - 1).keys()]);
          expect(maxRelDiff(r.y, reference(x, g, b, eps))).toBeLessThan(1e-5);
          expect(maxRelDiff(r.mean, ref.mean)).toBeLessThan(1e-5);
          expect(maxRelDiff(r.variance, ref.variance)).toBeLessThan(1e-5);
          tf.dispose([r.mean, r.variance]);
        });
      });
    }
  }

  it('keeps its statistics exact when the mean is large next to the spread (SIMD kernels)', async () => {
    await tf.setBackend('wasm');
    registerMissingKernels('wasm');
    tf.tidy(() => {
      const x = tf.add(tf.randomNormal([16, 12, 12, 8], 0, 0.01, 'float32', 7), 1000);
      const r = batchNormTrain(x, tf.ones([8]), tf.zeros([8]), 1e-5);
      const ref = tf.moments(x, [0, 1, 2]);
      expect(maxRelDiff(r.mean, ref.mean)).toBeLessThan(1e-6);
      // variance 1e-4 around a mean of 1000: float32 E[x²]−E[x]² would be off by orders of magnitude.
      // Reference: the exact (float64) variance of the same float32 values.
      const xs = x.dataSync();
      const v = r.variance.dataSync();
      for (let c = 0; c < 8; c++) {
        let m = 0;
        for (let i = c; i < xs.length; i += 8) m += xs[i]!;
        m /= xs.length / 8;
        let q = 0;
        for (let i = c; i < xs.length; i += 8) q += (xs[i]! - m) ** 2;
        const exact = q / (xs.length / 8);
        expect(Math.abs(v[c]! - exact) / exact).toBeLessThan(1e-3);
      }
      tf.dispose([r.mean, r.variance]);
    });
    unregisterComposedKernels('wasm');
  });

  it('keeps no tensors beyond its result, forward or backward', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 5, 5, 3]);
    const g = tf.ones([3]) as tf.Tensor1D;
    const b = tf.zeros([3]) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    const grads = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
      const r = batchNormTrain(xx, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-5);
      r.mean.dispose();
      r.variance.dispose();
      return tf.sum(tf.square(r.y));
    })([x, g, b]);
    expect(tf.memory().numTensors).toBe(before + 3);
    tf.dispose([...grads, x, g, b]);
  });
});
