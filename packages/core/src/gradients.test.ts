import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import './gradients.js';

describe('gradient registration', () => {
  it('computes the gradient of a conv2d', async () => {
    await tf.setBackend('cpu');
    const x = tf.ones([1, 4, 4, 1]);
    const w = tf.ones([3, 3, 1, 1]);
    const g = tf.grad((ww: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, ww as tf.Tensor4D, 1, 'valid')))(w);
    expect(Array.from(await g.data())).toEqual(new Array(9).fill(4));
  });
});
