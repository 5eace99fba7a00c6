/**
 * Transforms on batched tensors: fast.ai v1's `get_transforms()` family (flip, rotate, zoom, symmetric warp,
 * brightness/contrast, random/center crop) and normalization.
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
export {
  denormalizeWith,
  imagenetStats,
  normalizeWith,
  type BatchNormalizer,
  type ChannelStats,
} from './normalize.js';
