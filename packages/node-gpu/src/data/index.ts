/**
 * The Node data platform: folders on disk, image decoding with sharp (JPEG, PNG, WebP, GIF, TIFF, AVIF; BMP via
 * bmp-ts), `ImageDataLoaders.fromFolder` bound to it, `showBatch` and `svgToPng`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { fromFolderWith, loadImageBatchWith, platformReady, type LoadImageBatchOptions } from '@fastts/core/platform';
import { type DataBunch, type FromFolderOptions, type ImageDataLoadersApi } from '@fastts/core';
import { nodePlatform } from './node-platform.js';

export { nodePlatform } from './node-platform.js';
export { decodeImageFile, probeImageFile } from './decode.js';
export { sniffFormat, type ImageFormat } from './sniff.js';
export { savePlot, showBatch, svgToPng, type ShowBatchPngOptions } from './render.js';

/** Same as `ImageDataLoaders.fromFolder`: a DataBunch from a folder of images on disk (sets up the backend first). */
export async function fromFolder(path: string, opts?: FromFolderOptions): Promise<DataBunch> {
  await platformReady();
  return fromFolderWith(nodePlatform, path, opts);
}

/** fast.ai's `ImageDataLoaders` on Node's file system: `await ImageDataLoaders.fromFolder(path, { ... })`. */
export const ImageDataLoaders: ImageDataLoadersApi = { fromFolder };

/** fast.ai v1's name of {@link ImageDataLoaders}: `await ImageDataBunch.fromFolder(path, { test: 'test', dsTfms: getTransforms(), size: 224 })`. */
export const ImageDataBunch: ImageDataLoadersApi = ImageDataLoaders;

/**
 * Decodes image files into one NHWC float32 batch (pixel values 0..255, resize + center crop): the validation
 * preprocessing, for predictions on files without a DataBunch. Apply the model's normalizer to the result.
 */
export async function loadImageBatch(paths: readonly string[], opts: LoadImageBatchOptions): Promise<tf.Tensor4D> {
  await platformReady();
  return loadImageBatchWith(nodePlatform, paths, opts);
}
