/**
 * fast.ai v1 lighting transforms on batches: brightness and contrast act in logit space of pixel values in
 * [0, 1] (`image = sigmoid(f(logit(image)))`), brightness adding logit(change), contrast multiplying by scale.
 */
import * as tf from '@tensorflow/tfjs-core';

const EPS = 1e-6;

/**
 * Applies per-image brightness `change` (0.5 = none) and contrast `scale` (1 = none) to `x` (pixel values
 * 0..255, NHWC). Pixel values are clamped to [1e-6, 1 - 1e-6] before the logit (fast.ai lets 0 and 1 become
 * ±infinity, which gives the same result after the sigmoid). Returns `x` itself when nothing changes.
 */
export function applyLighting(x: tf.Tensor4D, brightness: number[], contrast: number[]): tf.Tensor4D {
  const n = x.shape[0];
  if (brightness.length !== n || contrast.length !== n) {
    throw new Error(`applyLighting: expected ${n} brightness and contrast values`);
  }
  if (brightness.every((b) => b === 0.5) && contrast.every((c) => c === 1)) return x;
  return tf.tidy(() => {
    const shift = tf.tensor4d(
      brightness.map((b) => Math.log(b / (1 - b))),
      [n, 1, 1, 1],
    );
    const scale = tf.tensor4d(contrast, [n, 1, 1, 1]);
    const p = tf.clipByValue(tf.div(x, 255), EPS, 1 - EPS);
    const logit = tf.log(tf.div(p, tf.sub(1, p)));
    const l = tf.mul(tf.add(logit, shift), scale);
    return tf.mul(tf.sigmoid(l), 255);
  });
}
