/**
 * fast.ai v1 `get_transforms()` as data: which random transforms run, with which ranges and probabilities.
 */

/** The random part of one data augmentation pipeline (fast.ai v1 semantics; every field optional = off). */
export interface Augmentation {
  /** Horizontal flip with probability `p` (fast.ai `flip_affine(p=0.5)`); `vertical: true` draws one of the
   * 8 dihedral symmetries instead (fast.ai `dihedral_affine()`, applied with probability `p`). */
  flip?: { p: number; vertical: boolean };
  /** Symmetric perspective warp: 4 magnitudes uniform in [-magnitude, magnitude], probability `p`. */
  warp?: { magnitude: number; p: number };
  /** Rotation by a uniform angle in [-maxDegrees, maxDegrees], probability `p`. */
  rotate?: { maxDegrees: number; p: number };
  /** Zoom by a uniform scale in [1, max] about a random focus point, probability `p`. */
  zoom?: { max: number; p: number };
  /** Brightness: adds logit(c) in logit space, c uniform in [0.5(1-max), 0.5(1+max)], probability `p`. */
  brightness?: { max: number; p: number };
  /** Contrast: multiplies in logit space by a log-uniform scale in [1-max, 1/(1-max)], probability `p`. */
  contrast?: { max: number; p: number };
  /** Random crop position (train) instead of the center crop (valid/test). */
  randomCrop?: boolean;
}

/** The train and valid/test augmentation pair returned by {@link getTransforms}. */
export interface TransformSet {
  /** Applied to training batches. */
  train: Augmentation;
  /** Applied to validation and test batches (deterministic: resize + center crop only). */
  valid: Augmentation;
}

/** Options of {@link getTransforms}, fast.ai's keyword arguments in camelCase, same defaults. */
export interface GetTransformsOptions {
  /** Random horizontal flip (p = 0.5). Default true. */
  doFlip?: boolean;
  /** Random dihedral flips (vertical flips and 90° turns too) instead of the horizontal flip. Default false. */
  flipVert?: boolean;
  /** Largest rotation in degrees. Default 10; 0 turns rotation off. */
  maxRotate?: number;
  /** Largest zoom factor. Default 1.1; 1 turns zoom off. */
  maxZoom?: number;
  /** Largest brightness/contrast change. Default 0.2; 0 turns lighting off. */
  maxLighting?: number;
  /** Largest symmetric perspective-warp magnitude. Default 0.2; 0 turns warping off. */
  maxWarp?: number;
  /** Probability of each affine/warp transform. Default 0.75. */
  pAffine?: number;
  /** Probability of each lighting transform. Default 0.75. */
  pLighting?: number;
}

function checkProb(name: string, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`getTransforms: ${name} must be a probability in [0, 1], got ${p}`);
  return p;
}

/**
 * fast.ai's `get_transforms()`: random flip, rotate ±10°, zoom 1..1.1, symmetric warp 0.2, lighting 0.2 for
 * training (each affine with p_affine = 0.75, each lighting with p_lighting = 0.75, flip with p = 0.5, random
 * crop), and only the deterministic resize + center crop for validation/test.
 */
export function getTransforms(opts: GetTransformsOptions = {}): TransformSet {
  const {
    doFlip = true,
    flipVert = false,
    maxRotate = 10,
    maxZoom = 1.1,
    maxLighting = 0.2,
    maxWarp = 0.2,
    pAffine = 0.75,
    pLighting = 0.75,
  } = opts;
  checkProb('pAffine', pAffine);
  checkProb('pLighting', pLighting);
  if (!(maxZoom >= 1)) throw new RangeError(`getTransforms: maxZoom must be >= 1, got ${maxZoom}`);
  if (!(maxLighting >= 0 && maxLighting < 1)) {
    throw new RangeError(`getTransforms: maxLighting must be in [0, 1), got ${maxLighting}`);
  }
  if (!(maxWarp >= 0 && maxWarp < 1)) throw new RangeError(`getTransforms: maxWarp must be in [0, 1), got ${maxWarp}`);
  if (!(maxRotate >= 0)) throw new RangeError(`getTransforms: maxRotate must be >= 0, got ${maxRotate}`);
  const train: Augmentation = { randomCrop: true };
  if (doFlip) train.flip = flipVert ? { p: 1, vertical: true } : { p: 0.5, vertical: false };
  if (maxWarp) train.warp = { magnitude: maxWarp, p: pAffine };
  if (maxRotate) train.rotate = { maxDegrees: maxRotate, p: pAffine };
  if (maxZoom > 1) train.zoom = { max: maxZoom, p: pAffine };
  if (maxLighting) {
    train.brightness = { max: maxLighting, p: pLighting };
    train.contrast = { max: maxLighting, p: pLighting };
  }
  return { train, valid: {} };
}

/** No augmentation at all: resize + center crop. */
export const NO_AUGMENTATION: Augmentation = Object.freeze({});
