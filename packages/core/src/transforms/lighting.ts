/**
 * fast.ai v1 lighting transforms on batches: brightness and contrast act in logit space of pixel values in
 * [0, 1] (`image = sigmoid(f(logit(image)))`), brightness adding logit(change), contrast multiplying by scale.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Applies per-image brightness `change` (0.5 = none) and contrast `scale` (1 = none) to `x` (pixel values
 * 0..255, NHWC): `255 · sigmoid(scale · (logit(x / 255) + logit(change)))`, with logit(x / 255) computed as
 * `-log((255 - x) / x)` so that 0 and 255 map to themselves exactly (fast.ai's ±infinite logits) without a clamp.
 * Returns `x` itself when nothing changes.
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
    // (a per-image exponent through tf.pow would be far slower on wasm than log + mul)
    const logOdds = tf.log(tf.div(tf.sub(255, x), x)); // -logit(x / 255); -Infinity at 255, +Infinity at 0
    return tf.mul(tf.sigmoid(tf.mul(tf.sub(shift, logOdds), scale)), 255);
  });
}
