/**
 * Decoded images -> one augmented, cropped float32 batch, the way fast.ai v1's `apply_tfms` treats each image:
 * resize (short side = size), warp + flip/rotate/zoom, lighting, crop `size x size` (random for train, center for
 * valid/test). Geometry is one matrix per image applied by a single batched sampling op.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertDecodedImage, type DecodedImage } from '../data/image.js';
import type { Rng } from '../data/rng.js';
import type { Augmentation } from './augmentation.js';
import { augmentMatrix, toTfTransform, type ImageGeometry } from './geometry.js';
import { applyLighting } from './lighting.js';
import { drawAugmentParams, identityParams, type AugmentParams } from './params.js';
import { sampleProjective } from './sample.js';

/** Options of {@link transformImages}. */
export interface TransformImagesOptions {
  /** Output side in pixels (the batch is `[N, size, size, 3]`). */
  size: number;
  /** Random augmentation to apply; absent or `{}` = resize + center crop only. */
  augmentation?: Augmentation;
  /** Random source for the augmentation's draws (needed when `augmentation` has random parts). */
  rng?: Rng;
  /** Explicit per-image parameters (override `augmentation`/`rng`; for tests and TTA). */
  params?: AugmentParams[];
}

function geometryOf(img: DecodedImage, canvasWidth: number, canvasHeight: number): ImageGeometry {
  return {
    sourceWidth: img.sourceWidth ?? img.width,
    sourceHeight: img.sourceHeight ?? img.height,
    canvasWidth,
    canvasHeight,
  };
}

/** Stacks images of one size into a float32 `[N, H, W, 3]` tensor (pixel values 0..255). */
export function stackImages(images: readonly DecodedImage[]): tf.Tensor4D {
  const first = images[0];
  if (!first) throw new Error('stackImages: no images');
  const { width, height } = first;
  const per = width * height * 3;
  const buf = new Float32Array(images.length * per);
  images.forEach((img, i) => {
    if (img.width !== width || img.height !== height) {
      throw new Error(`stackImages: image ${i} is ${img.width}x${img.height}, expected ${width}x${height}`);
    }
    buf.set(img.data, i * per);
  });
  return tf.tensor4d(buf, [images.length, height, width, 3]);
}

/**
 * Turns decoded images into an NHWC float32 batch of `size x size` crops, pixel values 0..255 (not normalized).
 * Images may be squished canvases (`sourceWidth`/`sourceHeight` set): the aspect ratio used for resizing and
 * rotating is always the original one. Images of different canvas sizes are first resized to the first one's.
 */
export function transformImages(images: readonly DecodedImage[], opts: TransformImagesOptions): tf.Tensor4D {
  const { size } = opts;
  if (!Number.isInteger(size) || size < 2) throw new RangeError(`transformImages: size must be an integer >= 2, got ${size}`);
  if (images.length === 0) throw new Error('transformImages: no images');
  images.forEach((img, i) => assertDecodedImage(img, `image ${i}`));
  const aug = opts.augmentation ?? {};
  let params = opts.params;
  if (!params) {
    const random = Object.keys(aug).some((k) => aug[k as keyof Augmentation]);
    if (random && !opts.rng) throw new Error('transformImages: an augmentation with random parts needs `rng`');
    params = images.map(() => (random ? drawAugmentParams(aug, opts.rng!) : identityParams()));
  }
  if (params.length !== images.length) throw new Error('transformImages: one params entry per image is needed');
  const p = params;
  const cw = images[0]!.width;
  const ch = images[0]!.height;
  const sameSize = images.every((img) => img.width === cw && img.height === ch);
  const matrices = images.map((img, i) => toTfTransform(augmentMatrix(p[i]!, geometryOf(img, cw, ch), size)));
  return tf.tidy(() => {
    let canvas: tf.Tensor4D;
    if (sameSize) {
      canvas = stackImages(images);
    } else {
      canvas = tf.concat(
        images.map((img) => {
          const t = stackImages([img]);
          return img.width === cw && img.height === ch ? t : tf.image.resizeBilinear(t, [ch, cw], true);
        }),
        0,
      );
    }
    const sampled = sampleProjective(canvas, matrices, [size, size]);
    return applyLighting(
      sampled,
      p.map((q) => q.brightness),
      p.map((q) => q.contrast),
    );
  });
}
