import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedImage } from '../data/image.js';
import { createRng } from '../data/rng.js';
import { getTransforms } from './augmentation.js';
import { augmentMatrix, resizeTarget, symmetricWarpMatrix } from './geometry.js';
import { applyLighting } from './lighting.js';
import { applyMat3 } from './matrix.js';
import { denormalizeWith, imagenetStats, normalizeWith } from './normalize.js';
import { drawAugmentParams, identityParams, type AugmentParams } from './params.js';
import { transformIsBatchSafe } from './sample.js';
import { transformImages } from './transform-images.js';

/** R = x (column), G = y (row), B = constant: pixels say where they came from. */
function gradient(width: number, height: number, scaleX = 1, scaleY = 1): DecodedImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = Math.min(255, Math.round(x * scaleX));
      data[i + 1] = Math.min(255, Math.round(y * scaleY));
      data[i + 2] = 77;
    }
  }
  return { data, width, height };
}

async function pixels(x: tf.Tensor4D): Promise<number[][][][]> {
  const v = (await x.array()) as number[][][][];
  x.dispose();
  return v;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('getTransforms', () => {
  it("has fast.ai v1's defaults and probabilities", () => {
    const { train, valid } = getTransforms();
    expect(train).toEqual({
      randomCrop: true,
      flip: { p: 0.5, vertical: false },
      warp: { magnitude: 0.2, p: 0.75 },
      rotate: { maxDegrees: 10, p: 0.75 },
      zoom: { max: 1.1, p: 0.75 },
      brightness: { max: 0.2, p: 0.75 },
      contrast: { max: 0.2, p: 0.75 },
    });
    expect(valid).toEqual({});
    const off = getTransforms({ doFlip: false, maxRotate: 0, maxZoom: 1, maxLighting: 0, maxWarp: 0 });
    expect(off.train).toEqual({ randomCrop: true });
    expect(() => getTransforms({ pAffine: 2 })).toThrow(/probability/);
  });

  it('draws parameters with those ranges and probabilities', () => {
    const rng = createRng(3);
    const aug = getTransforms().train;
    const n = 4000;
    const ps: AugmentParams[] = Array.from({ length: n }, () => drawAugmentParams(aug, rng));
    const frac = (f: (p: AugmentParams) => boolean): number => ps.filter(f).length / n;
    expect(frac((p) => p.dihedral === 1)).toBeCloseTo(0.5, 1);
    expect(frac((p) => p.rotateDegrees !== 0)).toBeCloseTo(0.75, 1);
    expect(frac((p) => p.warp !== null)).toBeCloseTo(0.75, 1);
    expect(frac((p) => p.zoom.scale !== 1)).toBeCloseTo(0.75, 1);
    expect(frac((p) => p.brightness !== 0.5)).toBeCloseTo(0.75, 1);
    expect(frac((p) => p.contrast !== 1)).toBeCloseTo(0.75, 1);
    expect(ps.every((p) => Math.abs(p.rotateDegrees) <= 10)).toBe(true);
    expect(ps.every((p) => p.zoom.scale >= 1 && p.zoom.scale <= 1.1)).toBe(true);
    expect(ps.every((p) => (p.warp ?? [0]).every((m) => Math.abs(m) <= 0.2))).toBe(true);
    expect(ps.every((p) => p.brightness >= 0.4 && p.brightness <= 0.6)).toBe(true);
    expect(ps.every((p) => p.contrast >= 0.8 - 1e-9 && p.contrast <= 1.25 + 1e-9)).toBe(true);
  });
});

describe('geometry (fast.ai v1 coordinates)', () => {
  it('resizes the short side to size, keeping the aspect ratio', () => {
    expect(resizeTarget(300, 200, 100)).toEqual({ w: 150, h: 100 });
    expect(resizeTarget(100, 400, 224)).toEqual({ w: 224, h: 896 });
  });

  it('symmetric warp sends the displaced corners back onto the image corners', () => {
    const m: [number, number, number, number] = [0.1, -0.2, 0.05, 0.15];
    const h = symmetricWarpMatrix(m);
    const targ: [number, number][] = [
      [-1 - m[3], -1 - m[1]],
      [-1 - m[2], 1 + m[1]],
      [1 + m[3], -1 - m[0]],
      [1 + m[2], 1 + m[0]],
    ];
    const orig = [
      [-1, -1],
      [-1, 1],
      [1, -1],
      [1, 1],
    ];
    targ.forEach(([x, y], i) => {
      const [u, v] = applyMat3(h, x, y);
      expect(u).toBeCloseTo(orig[i]![0]!, 9);
      expect(v).toBeCloseTo(orig[i]![1]!, 9);
    });
  });

  it('rotates rigidly in pixel space on a non-square image (aspect-ratio correction)', () => {
    const geom = { sourceWidth: 400, sourceHeight: 200, canvasWidth: 400, canvasHeight: 200 };
    const p = { ...identityParams(), rotateDegrees: 30 };
    const m = augmentMatrix(p, geom, 100); // target 200x100; canvas is 2x the target
    const a = applyMat3(m, 10, 20);
    const b = applyMat3(m, 80, 50);
    const dist = Math.hypot(a[0] - b[0], a[1] - b[1]);
    expect(dist / 2).toBeCloseTo(Math.hypot(70, 30), 0);
  });
});

describe('transformImages', () => {
  it('valid/test: resize + center crop, pixel-exact on a gradient', async () => {
    // 300x100 image, size 100: target = the image itself, center crop starts at column floor(201/2) = 100
    const out = await pixels(transformImages([gradient(300, 100, 0.8, 2)], { size: 100 }));
    expect(out[0]!.length).toBe(100);
    for (const [y, x] of [
      [0, 0],
      [50, 50],
      [99, 99],
      [10, 73],
    ] as const) {
      const px = out[0]![y]![x]!;
      expect(px[0]).toBeCloseTo(Math.round((x + 100) * 0.8), 3);
      expect(px[1]).toBeCloseTo(Math.min(255, y * 2), 3);
      expect(px[2]).toBeCloseTo(77, 3);
    }
  });

  it('undoes the squish of a decode canvas: same crop from a squished copy', async () => {
    // the 300x100 gradient squished to a 150x150 canvas (as the Node platform decodes) still crops columns 100..199
    const squished = gradient(150, 150, 0.8 * (299 / 149), 2 * (99 / 149));
    const out = await pixels(transformImages([{ ...squished, sourceWidth: 300, sourceHeight: 100 }], { size: 100 }));
    expect(out[0]![0]![0]![0]).toBeCloseTo(100 * 0.8, 0);
    expect(out[0]![99]![99]![0]).toBeCloseTo(199 * 0.8, 0);
    expect(out[0]![99]![99]![1]).toBeCloseTo(99 * 2, 0);
  });

  it('random crop positions span the whole long side', async () => {
    const img = gradient(300, 100);
    const left = await pixels(
      transformImages([img], { size: 100, params: [{ ...identityParams(), crop: { rowPct: 0.5, colPct: 0 } }] }),
    );
    const right = await pixels(
      transformImages([img], { size: 100, params: [{ ...identityParams(), crop: { rowPct: 0.5, colPct: 0.9999 } }] }),
    );
    expect(left[0]![0]![0]![0]).toBeCloseTo(0, 3);
    expect(right[0]![0]![99]![0]).toBeCloseTo(255, 3); // column 299 -> clipped byte 255
    expect(right[0]![0]![0]![0]).toBeCloseTo(200, 3);
  });

  it('flips horizontally: the flipped output is the mirror image of the plain one', async () => {
    const img = gradient(300, 200, 0.8, 1.2); // target 150x100: symmetric center crop
    const plain = transformImages([img], { size: 100 });
    const flipped = transformImages([img], { size: 100, params: [{ ...identityParams(), dihedral: 1 }] });
    const mirrored = tf.reverse(plain, 2);
    const diff = tf.max(tf.abs(tf.sub(flipped, mirrored))).dataSync()[0]!;
    expect(diff).toBeLessThan(1e-3);
    tf.dispose([plain, flipped, mirrored]);
  });

  it('zooms about the focus point', async () => {
    const img = gradient(101, 101, 2, 2);
    const out = await pixels(
      transformImages([img], { size: 101, params: [{ ...identityParams(), zoom: { scale: 2, rowPct: 0.5, colPct: 0.5 } }] }),
    );
    expect(out[0]![50]![50]![0]).toBeCloseTo(100, 3); // center stays
    expect(out[0]![50]![0]![0]).toBeCloseTo(50, 3); // left edge shows the image's quarter point
    expect(out[0]![50]![100]![0]).toBeCloseTo(150, 3);
  });

  it('gives the shapes asked for, the same result for the same seed and another for another seed', async () => {
    const imgs = [gradient(120, 80, 2, 3), gradient(80, 120, 2, 2), gradient(100, 100, 1, 1)];
    const aug = getTransforms().train;
    const a = transformImages(imgs, { size: 64, augmentation: aug, rng: createRng(42) });
    const b = transformImages(imgs, { size: 64, augmentation: aug, rng: createRng(42) });
    const c = transformImages(imgs, { size: 64, augmentation: aug, rng: createRng(43) });
    expect(a.shape).toEqual([3, 64, 64, 3]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(tf.max(tf.abs(tf.sub(a, c))).dataSync()[0]).toBeGreaterThan(1);
    const v = a.dataSync();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(255);
    tf.dispose([a, b, c]);
  });

  it('samples whole batches on wasm and falls back per image where the kernel is not batch-safe (cpu), same pixels', async () => {
    const imgs = [gradient(120, 80, 2, 3), gradient(120, 80, 1, 2), gradient(120, 80, 2, 1)];
    const params = imgs.map((_, i) => drawAugmentParams(getTransforms().train, createRng(i)));
    await tf.setBackend('cpu');
    expect(transformIsBatchSafe()).toBe(false); // tfjs-backend-cpu 4.22 only transforms the first image
    const cpu = (await transformImages(imgs, { size: 48, params }).data()).slice();
    await tf.setBackend('wasm');
    expect(transformIsBatchSafe()).toBe(true);
    const wasm = await transformImages(imgs, { size: 48, params }).data();
    let maxDiff = 0;
    for (let i = 0; i < cpu.length; i++) maxDiff = Math.max(maxDiff, Math.abs(cpu[i]! - wasm[i]!));
    expect(maxDiff).toBeLessThan(0.05);
    await tf.setBackend('cpu');
  });
});

describe('lighting and normalization', () => {
  it('brightness and contrast act in logit space; identity leaves the batch alone', async () => {
    const x = tf.tensor4d([0, 64, 127.5, 191, 255, 30], [2, 1, 1, 3]);
    expect(applyLighting(x, [0.5, 0.5], [1, 1])).toBe(x);
    const brighter = await applyLighting(x, [0.6, 0.5], [1, 1]).data();
    expect(brighter[1]).toBeGreaterThan(64);
    expect(brighter[2]).toBeGreaterThan(127.5);
    const sig = (l: number): number => 1 / (1 + Math.exp(-l));
    const lg = (p: number): number => Math.log(p / (1 - p));
    expect(brighter[1]).toBeCloseTo(255 * sig(lg(64 / 255) + lg(0.6)), 3);
    const contrast = await applyLighting(x, [0.5, 0.5], [1.25, 0.8]).data();
    expect(contrast[2]).toBeCloseTo(127.5, 3); // mid-grey is the contrast's fixed point
    expect(contrast[1]).toBeLessThan(64); // more contrast: darks get darker
    expect(contrast[5]).toBeGreaterThan(30); // less contrast: darks get lighter
    x.dispose();
  });

  it('normalizes with channel statistics and back', async () => {
    const x = tf.tensor4d([255 * 0.485, 255 * 0.456, 255 * 0.406, 255, 0, 128], [1, 1, 2, 3]);
    const n = normalizeWith(imagenetStats)(x);
    const v = await n.data();
    expect(v[0]).toBeCloseTo(0, 5);
    expect(v[3]).toBeCloseTo((1 - 0.485) / 0.229, 4);
    const back = await denormalizeWith(imagenetStats)(n).data();
    expect(back[5]).toBeCloseTo(128, 3);
    tf.dispose([x, n]);
  });
});

describe('reflection at the borders', () => {
  it('mirrors about the border pixels (PyTorch reflection, align_corners=True) on every backend', async () => {
    // a 1x6 ramp shifted left by 2: output x=0,1 read input x=-2,-1, which reflect to 2, 1
    const img = tf.tensor4d([0, 10, 20, 30, 40, 50], [1, 1, 6, 1]);
    for (const b of ['cpu', 'wasm']) {
      await tf.setBackend(b);
      const { sampleProjective } = await import('./sample.js');
      const left = sampleProjective(img, [[1, 0, -2, 0, 1, 0, 0, 0]], [1, 6]);
      const right = sampleProjective(img, [[1, 0, 3, 0, 1, 0, 0, 0]], [1, 6]);
      expect(Array.from(left.dataSync())).toEqual([20, 10, 0, 10, 20, 30]);
      expect(Array.from(right.dataSync())).toEqual([30, 40, 50, 40, 30, 20]);
      tf.dispose([left, right]);
    }
    await tf.setBackend('cpu');
    img.dispose();
  });

  it('pads only as far as the matrices reach', async () => {
    const { reflectionPadding } = await import('./sample.js');
    expect(reflectionPadding([[1, 0, 0, 0, 1, 0, 0, 0]], 10, 10, 10, 10)).toEqual([0, 0, 0, 0]);
    expect(reflectionPadding([[1, 0, -2.5, 0, 1, 1, 0, 0]], 10, 10, 10, 10)).toEqual([0, 2, 4, 0]);
  });
});
