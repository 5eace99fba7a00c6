/**
 * Drawing the random parameters of one image's augmentation, in fast.ai's order and with its distributions.
 */
import { logUniform, randBool, randInt, uniform, type Rng } from '../data/rng.js';
import type { Augmentation } from './augmentation.js';

/** The resolved random choices for one image. Identity values mean "transform not applied". */
export interface AugmentParams {
  /** Dihedral index 0..7 (bit 0: flip x, bit 1: flip y, bit 2: transpose); 1 = horizontal flip; 0 = none. */
  dihedral: number;
  /** Symmetric-warp magnitudes, or null when not applied. */
  warp: [number, number, number, number] | null;
  /** Rotation in degrees (0 = none). */
  rotateDegrees: number;
  /** Zoom scale (1 = none) and focus point as fractions of the image. */
  zoom: { scale: number; rowPct: number; colPct: number };
  /** Brightness change c of fast.ai (0.5 = none): adds logit(c) in logit space. */
  brightness: number;
  /** Contrast scale (1 = none): multiplies in logit space. */
  contrast: number;
  /** Crop position as fractions in [0, 1) of the free space (0.5 = center). */
  crop: { rowPct: number; colPct: number };
}

/** Parameters that change nothing: resize + center crop. */
export function identityParams(): AugmentParams {
  return {
    dihedral: 0,
    warp: null,
    rotateDegrees: 0,
    zoom: { scale: 1, rowPct: 0.5, colPct: 0.5 },
    brightness: 0.5,
    contrast: 1,
    crop: { rowPct: 0.5, colPct: 0.5 },
  };
}

/**
 * Draws one image's parameters. Every transform draws its values whether or not it runs, so that turning one
 * transform's probability up or down never changes the values drawn for the others.
 */
export function drawAugmentParams(aug: Augmentation, rng: Rng): AugmentParams {
  const p = identityParams();
  if (aug.flip) {
    const run = randBool(rng, aug.flip.p);
    const k = aug.flip.vertical ? randInt(rng, 0, 7) : 1;
    if (run) p.dihedral = k;
  }
  if (aug.warp) {
    const m = aug.warp.magnitude;
    const run = randBool(rng, aug.warp.p);
    const mags: [number, number, number, number] = [
      uniform(rng, -m, m),
      uniform(rng, -m, m),
      uniform(rng, -m, m),
      uniform(rng, -m, m),
    ];
    if (run) p.warp = mags;
  }
  if (aug.rotate) {
    const run = randBool(rng, aug.rotate.p);
    const deg = uniform(rng, -aug.rotate.maxDegrees, aug.rotate.maxDegrees);
    if (run) p.rotateDegrees = deg;
  }
  if (aug.zoom) {
    const run = randBool(rng, aug.zoom.p);
    const scale = uniform(rng, 1, aug.zoom.max);
    const rowPct = rng();
    const colPct = rng();
    if (run) p.zoom = { scale, rowPct, colPct };
  }
  if (aug.brightness) {
    const m = aug.brightness.max;
    const run = randBool(rng, aug.brightness.p);
    const change = uniform(rng, 0.5 * (1 - m), 0.5 * (1 + m));
    if (run) p.brightness = change;
  }
  if (aug.contrast) {
    const m = aug.contrast.max;
    const run = randBool(rng, aug.contrast.p);
    const scale = logUniform(rng, 1 - m, 1 / (1 - m));
    if (run) p.contrast = scale;
  }
  if (aug.randomCrop) {
    p.crop = { rowPct: rng(), colPct: rng() };
  }
  return p;
}
