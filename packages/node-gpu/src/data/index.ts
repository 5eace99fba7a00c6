/**
 * The Node data platform: folders on disk, image decoding with sharp (JPEG, PNG, WebP, GIF, TIFF, AVIF; BMP via
 * bmp-ts), `ImageDataLoaders.fromFolder` bound to it, `showBatch` and `svgToPng`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import {
  imageDataLoadersFor,
  loadImageBatchWith,
  type DataBunch,
  type FromFolderOptions,
  type ImageDataLoadersApi,
  type LoadImageBatchOptions,
} from '@fastts/core';
import { nodePlatform } from './node-platform.js';

export { nodePlatform } from './node-platform.js';
export { decodeImageFile, probeImageFile } from './decode.js';
export { sniffFormat, type ImageFormat } from './sniff.js';
export { showBatch, svgToPng, type ShowBatchPngOptions } from './render.js';

/** fast.ai's `ImageDataLoaders` on Node's file system: `await ImageDataLoaders.fromFolder(path, { ... })`. */
export const ImageDataLoaders: ImageDataLoadersApi = imageDataLoadersFor(nodePlatform);

/** Same as `ImageDataLoaders.fromFolder`: a DataBunch from a folder of images on disk. */
export function fromFolder(path: string, opts?: FromFolderOptions): Promise<DataBunch> {
  return ImageDataLoaders.fromFolder(path, opts);
}

/**
 * Decodes image files into one NHWC float32 batch (pixel values 0..255, resize + center crop): the validation
 * preprocessing, for predictions on files without a DataBunch. Apply the model's normalizer to the result.
 */
export function loadImageBatch(paths: readonly string[], opts: LoadImageBatchOptions): Promise<tf.Tensor4D> {
  return loadImageBatchWith(nodePlatform, paths, opts);
}
