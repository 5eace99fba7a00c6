/** Image files -> one batch the way valid/test sets see them, for inference without a DataBunch. */
import type * as tf from '@tensorflow/tfjs-core';
import { transformImages } from '../transforms/transform-images.js';
import type { DataPlatform } from './platform.js';

/** Options of {@link loadImageBatchWith}. */
export interface LoadImageBatchOptions {
  /** Output side in pixels. */
  size: number;
  /** Decode canvas side (as in `fromFolder`). Default `round(1.5 * size)`. */
  decodeSize?: number;
}

/**
 * Decodes image files and returns them as one NHWC float32 batch (pixel values 0..255, resize + center crop),
 * exactly the preprocessing of a DataBunch's validation and test sets (apply the model's normalizer after).
 */
export async function loadImageBatchWith(
  platform: DataPlatform,
  paths: readonly string[],
  opts: LoadImageBatchOptions,
): Promise<tf.Tensor4D> {
  const d = opts.decodeSize ?? Math.round(1.5 * opts.size);
  const images = await Promise.all(paths.map((p) => platform.decodeImage(p, { width: d, height: d, fit: 'fill' })));
  return transformImages(images, { size: opts.size });
}
