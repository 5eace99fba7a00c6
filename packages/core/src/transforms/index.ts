/**
 * Transforms on batched tensors: fast.ai v1's `get_transforms()` family (flip, rotate, zoom, symmetric warp,
 * brightness/contrast, random/center crop) and normalization.
 *
 * Semantics follow fast.ai v1 (vision/transform.py, vision/image.py): the same transforms, ranges, probabilities
 * and order (warp, then flip · rotate · zoom with aspect-corrected off-diagonals, then lighting in logit space,
 * then a `size x size` crop of the image resized to short side = size — random for train, center for
 * valid/test), bilinear sampling with reflection about the border pixels (align_corners=True grid). One matrix per
 * image; the whole batch is sampled by one `tf.image.transform`.
 *
 * Deliberate deviations:
 * - Resampling: images are decoded once by the platform (libvips: shrink-on-load, antialiased) to a square canvas
 *   of `decodeSize` (default 1.5 x size; the whole image squished, its aspect ratio restored by the matrices)
 *   and sampled from there. fast.ai samples the full-resolution original bilinearly, which aliases on large
 *   photos; here large images come out cleaner, and a very elongated image (aspect ratio above 1.5) is sampled
 *   from somewhat less resolution along its long side.
 * - The crop is exactly `size`; fast.ai rounds the crop target to a multiple of 32 (224 stays 224, 100 -> 96).
 * - Random values come from fastts's seeded generator (same distributions; not Python's numbers for a seed).
 * - Reflection reaches at most one image size beyond the border (then border pixels repeat), far more than the
 *   default transforms need.
 * - With no `tfms`, fromFolder center-crops every set (fast.ai's `ds_tfms=None` leaves unequal image sizes).
 */
export {
  getTransforms,
  NO_AUGMENTATION,
  type Augmentation,
  type GetTransformsOptions,
  type TransformSet,
} from './augmentation.js';
export { drawAugmentParams, identityParams, type AugmentParams } from './params.js';
export {
  augmentMatrix,
  dihedralMatrix,
  resizeTarget,
  rotateMatrix,
  symmetricWarpMatrix,
  toTfTransform,
  zoomMatrix,
  type ImageGeometry,
} from './geometry.js';
export { applyMat3, chain, homography, identity3, matMul3, type Mat3 } from './matrix.js';
export { reflectionPadding, sampleProjective, transformIsBatchSafe } from './sample.js';
export { applyLighting } from './lighting.js';
export { stackImages, transformImages, type TransformImagesOptions } from './transform-images.js';
export { denormalizeWith, imagenetStats, normalizeWith, type BatchNormalizer, type ChannelStats } from './normalize.js';
