/** Normalization of batches with per-channel statistics (fast.ai `normalize(imagenet_stats)`). */
import * as tf from '@tensorflow/tfjs-core';

/** Per-channel mean and standard deviation of RGB pixel values scaled to [0, 1]. */
export interface ChannelStats {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** ImageNet statistics, as fast.ai's `imagenet_stats` (for torchvision-pretrained models). */
export const imagenetStats: ChannelStats = Object.freeze({
  mean: [0.485, 0.456, 0.406] as const,
  std: [0.229, 0.224, 0.225] as const,
});

/** A batch function: NHWC float32 pixel values 0..255 in, model input out. */
export type BatchNormalizer = (x: tf.Tensor4D) => tf.Tensor4D;

/** A normalizer computing `(x / 255 - mean) / std` per channel. */
export function normalizeWith(stats: ChannelStats): BatchNormalizer {
  return (x) =>
    tf.tidy(() => {
      const mean = tf.tensor1d(stats.mean.map((m) => m * 255));
      const std = tf.tensor1d(stats.std.map((s) => s * 255));
      return tf.div(tf.sub(x, mean), std);
    });
}

/** The inverse of {@link normalizeWith}: back to pixel values 0..255 (for showing normalized batches). */
export function denormalizeWith(stats: ChannelStats): BatchNormalizer {
  return (x) =>
    tf.tidy(() => {
      const mean = tf.tensor1d(stats.mean.map((m) => m * 255));
      const std = tf.tensor1d(stats.std.map((s) => s * 255));
      return tf.add(tf.mul(x, std), mean);
    });
}
