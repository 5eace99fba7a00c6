/**
 * The per-image sampling map of fast.ai v1's augmentation pipeline, as one projective 3x3 matrix.
 *
 * fast.ai v1 (vision/image.py, vision/transform.py) works in normalized coordinates [-1, 1]: it builds the
 * output grid of the *resize target* (short side = size, aspect kept), applies the coord transforms (symmetric
 * warp, a homography), then the product of the affine transforms (flip · rotate · zoom, with the off-diagonal
 * terms corrected for the target's aspect ratio), samples the image bilinearly with reflection padding, and
 * finally crops `size x size` at (row_pct, col_pct) of the free space (random for train, 0.5 for valid/test).
 * All of it composes into one map from an output pixel to a source pixel:
 *
 *   P = SrcPixels · Affine · Warp · TargetNormalize · CropOffset
 *
 * which a single batched `tf.image.transform` applies to every image of a batch at once.
 */
import { chain, homography, type Mat3 } from './matrix.js';
import type { AugmentParams } from './params.js';

/** Geometry of one image in a batch. */
export interface ImageGeometry {
  /** Width of the original image (for the aspect ratio of the resize target). */
  sourceWidth: number;
  /** Height of the original image. */
  sourceHeight: number;
  /** Width of the pixels actually sampled (the decoded canvas, possibly squished). */
  canvasWidth: number;
  /** Height of the pixels actually sampled. */
  canvasHeight: number;
}

/**
 * fast.ai's resize target for `do_crop=True`: the image scaled so that its shorter side equals `size`.
 * (fast.ai also rounds the crop size to a multiple of 32; we keep the size asked for.)
 */
export function resizeTarget(sourceWidth: number, sourceHeight: number, size: number): { w: number; h: number } {
  const ratio = Math.min(sourceHeight / size, sourceWidth / size);
  return { w: Math.max(size, Math.round(sourceWidth / ratio)), h: Math.max(size, Math.round(sourceHeight / ratio)) };
}

/** fast.ai `dihedral_affine(k)` (k = 1 is `flip_affine`, a horizontal flip). */
export function dihedralMatrix(k: number): Mat3 {
  const x = k & 1 ? -1 : 1;
  const y = k & 2 ? -1 : 1;
  if (k & 4) return [0, x, 0, y, 0, 0, 0, 0, 1];
  return [x, 0, 0, 0, y, 0, 0, 0, 1];
}

/** fast.ai `rotate(degrees)`. */
export function rotateMatrix(degrees: number): Mat3 {
  const a = (degrees * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  return [c, -s, 0, s, c, 0, 0, 0, 1];
}

/** fast.ai `zoom(scale, row_pct, col_pct)`. */
export function zoomMatrix(scale: number, rowPct: number, colPct: number): Mat3 {
  const s = 1 - 1 / scale;
  const colC = s * (2 * colPct - 1);
  const rowC = s * (2 * rowPct - 1);
  return [1 / scale, 0, colC, 0, 1 / scale, rowC, 0, 0, 1];
}

const ORIG_PTS: [number, number][] = [
  [-1, -1],
  [-1, 1],
  [1, -1],
  [1, 1],
];

/** fast.ai `symmetric_warp(magnitude)`: the homography applied to the normalized output coordinates. */
export function symmetricWarpMatrix(m: readonly [number, number, number, number]): Mat3 {
  const [m0, m1, m2, m3] = m;
  const targ: [number, number][] = [
    [-1 - m3, -1 - m1],
    [-1 - m2, 1 + m1],
    [1 + m3, -1 - m0],
    [1 + m2, 1 + m0],
  ];
  // fast.ai's _find_coeffs(_orig_pts, targ_pts) is the map sending targ_pts onto _orig_pts.
  return homography(targ, ORIG_PTS);
}

/**
 * The matrix mapping an output pixel (x, y) of the `size x size` result to the canvas pixel to sample
 * (pixel centers; corners of the normalized range sit on the corner pixels' centers, as in fast.ai's grid).
 */
export function augmentMatrix(params: AugmentParams, geom: ImageGeometry, size: number): Mat3 {
  const { w, h } = resizeTarget(geom.sourceWidth, geom.sourceHeight, size);
  const row = Math.floor((h - size + 1) * params.crop.rowPct);
  const col = Math.floor((w - size + 1) * params.crop.colPct);
  const cropOffset: Mat3 = [1, 0, col, 0, 1, row, 0, 0, 1];
  const toNormalized: Mat3 = [2 / Math.max(w - 1, 1), 0, -1, 0, 2 / Math.max(h - 1, 1), -1, 0, 0, 1];
  const warp = params.warp ? symmetricWarpMatrix(params.warp) : null;
  // fast.ai multiplies its affine matrices in list order (flip, rotate, zoom), then scales the off-diagonal
  // terms of the product by the target's aspect ratio (_affine_mult).
  const affine = chain(
    dihedralMatrix(params.dihedral),
    rotateMatrix(params.rotateDegrees),
    zoomMatrix(params.zoom.scale, params.zoom.rowPct, params.zoom.colPct),
  );
  affine[1] *= h / w;
  affine[3] *= w / h;
  const cw = geom.canvasWidth;
  const ch = geom.canvasHeight;
  const toCanvas: Mat3 = [(cw - 1) / 2, 0, (cw - 1) / 2, 0, (ch - 1) / 2, (ch - 1) / 2, 0, 0, 1];
  const parts = warp ? [toCanvas, affine, warp, toNormalized, cropOffset] : [toCanvas, affine, toNormalized, cropOffset];
  return chain(...parts);
}

/** A projective matrix in tf.image.transform's 8-number form (divided through by its last entry). */
export function toTfTransform(m: Mat3): number[] {
  const z = m[8];
  if (Math.abs(z) < 1e-12) throw new Error('degenerate augmentation matrix');
  return [m[0] / z, m[1] / z, m[2] / z, m[3] / z, m[4] / z, m[5] / z, m[6] / z, m[7] / z];
}
