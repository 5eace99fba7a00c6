/**
 * The tiling shared by the Winograd F(4×4, 3×3) convolutions (winograd.ts) and weight gradient (winograd-wgrad.ts):
 * a convolution as a correlation, its 4×4 output tiles, the zero-padded input their 6×6 windows read, the passes of
 * images and the blocks of tiles, and the input transform of a block.
 */
import type { ConvGeometry } from '../conv-geometry.js';
import type { HeapView } from './heap-view.js';
import { defineJob } from './kernel-job.js';
import { ALPHA, PLANES, TILE, TRANSFORM_TMP_BYTES } from './winograd-transforms.js';

/** A stride-1 3×3 correlation of src [batch, h, w, c] giving [batch, oh, ow, n], the window of (y, x) at (y − pt, x − pl). */
export interface Correlation {
  batch: number;
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  n: number;
  pt: number;
  pl: number;
}

/** Tiles of a correlation's output (4×4 pixels each) and the padded input their windows read. */
export interface Tiling {
  rows: number;
  cols: number;
  /** Tiles per image. */
  perImage: number;
  /** Padded input height and width (every tile's 6×6 window inside). */
  hp: number;
  wp: number;
}

export function tiling(k: Correlation): Tiling {
  const rows = Math.ceil(k.oh / TILE);
  const cols = Math.ceil(k.ow / TILE);
  return { rows, cols, perImage: rows * cols, hp: TILE * rows + ALPHA - TILE, wp: TILE * cols + ALPHA - TILE };
}

/** The convolution as a correlation: forward, x with the filter; input gradient, dy with the flipped filter, padded by 2 − pad. */
export function correlationOf(g: ConvGeometry, transposed: boolean): Correlation {
  const fwd = { batch: g.batch, h: g.inHeight, w: g.inWidth, c: g.inChannels, oh: g.outHeight, ow: g.outWidth, n: g.outChannels };
  if (!transposed) return { ...fwd, pt: g.padTop, pl: g.padLeft };
  return { batch: g.batch, h: fwd.oh, w: fwd.ow, c: fwd.n, oh: fwd.h, ow: fwd.w, n: fwd.c, pt: 2 - g.padTop, pl: 2 - g.padLeft };
}

/** Start addresses of consecutive 64-byte-aligned regions of `sizes` bytes from `base`, and the bytes they span. */
export function regions(base: number, sizes: number[]): { at: number[]; bytes: number } {
  let at = ((base + 63) & ~63) >>> 0;
  const start = at;
  const out = sizes.map((size) => {
    const here = at;
    at += Math.ceil(size / 64) * 64;
    return here;
  });
  return { at: out, bytes: at - start + 64 };
}

/**
 * A plane stride of `rows` rows `ld` bytes apart, plus one cache line: the 36 values of a tile go to 36 planes, which
 * a power-of-two stride would put into one cache set (36 streams thrashing a 12-way L1 and a 16-way L2).
 */
export const planeStride = (rows: number, ld: number): number => Math.ceil((rows * ld) / 64) * 64 + 64;

/** Plane stride of the transformed filter U (and of S in the weight gradient): Ci × Co floats (+ a cache line). */
export const filterPlane = (ci: number, co: number): number => planeStride(1, ci * co * 4);

/**
 * Scratch memory one pass may take for its padded input (and padded output gradient): larger batches run in passes
 * of fewer images (the wasm heap is 4 GB at most, and shared with the activations).
 */
let passBytes = 128 * 1024 * 1024;

/** Sets the scratch budget of one pass (default 128 MB; tests use a tiny one to run one image per pass). @internal */
export function setWinogradPassBytes(bytes: number): void {
  passBytes = bytes;
}

/** Images per pass when each image's padded copies take `perImage` bytes. */
export const imagesPerPass = (batch: number, perImage: number): number =>
  Math.max(1, Math.min(batch, Math.floor(passBytes / perImage)));

/**
 * Bytes of one block's planes. Forward and input gradient (V and M): a block's tiles share one pass of the GEMMs
 * over the transformed filter, so the larger the block, the fewer times the filter streams through the cache.
 * Weight gradient (V and Z): the accumulated S (36 planes of Ci × Co) is read and written once per block; when
 * one block holds every tile, S is only ever built in chunks of input channels.
 */
const blockBytes = { forward: 4 << 20, wgrad: 12 << 20 };

/**
 * Sets the plane budgets of one block (forward/input gradient, weight gradient; defaults 4 MB and 12 MB; tests use
 * tiny ones to run many blocks of the minimum 16 tiles). @internal
 */
export function setWinogradBlockBytes(forward: number, wgrad: number): void {
  blockBytes.forward = forward;
  blockBytes.wgrad = wgrad;
}

/** Tiles per block of `kind`: as many as its budget of planes holds (a multiple of 4, at least 16), at most `tiles`. */
export function blockTiles(k: Correlation, kind: 'forward' | 'wgrad', tiles: number): number {
  const perTile = PLANES * (ldvOf(k) + ldmOf(k));
  const fit = Math.max(16, Math.floor(blockBytes[kind] / perTile / 4) * 4);
  return Math.min(fit, Math.ceil(tiles / 4) * 4);
}

/** The fields of a {@link Correlation}, as job arguments (a job's arguments record is then itself a Correlation). */
export const CORRELATION = ['batch', 'h', 'w', 'c', 'oh', 'ow', 'n', 'pt', 'pl'] as const;

/** Bytes of one image's padded input. */
export const paddedImageBytes = (k: Correlation, t: Tiling): number => t.hp * t.wp * k.c * 4;

/**
 * Copies image n0 + item of src [batch, h, w, c] into `xp` + item · (padded image) [hp, wp, c] at (pt, pl), zeros
 * around, writing each float once; one image per item.
 */
export const padJob = defineJob('winograd.pad', [...CORRELATION, 'src', 'n0', 'xp'], (h, a, item) => {
  const t = tiling(a);
  padInput(h.views().f32, a.src, a, t, a.n0 + item, 1, a.xp + item * paddedImageBytes(a, t));
});

/**
 * Copies images [n0, n0 + count) of src [batch, h, w, c] into `xp` [count, hp, wp, c] at (pt, pl), zeros around,
 * writing each float once.
 */
function padInput(f32: Float32Array, srcPtr: number, k: Correlation, t: Tiling, n0: number, count: number, xp: number): void {
  const c = k.c;
  const x0 = Math.max(0, -k.pl);
  const x1 = Math.min(k.w, t.wp - k.pl);
  const left = (x0 + k.pl) * c;
  const right = (x1 + k.pl) * c;
  const rowFloats = t.wp * c;
  for (let n = 0; n < count; n++) {
    for (let py = 0; py < t.hp; py++) {
      const row = (xp >>> 2) + (n * t.hp + py) * rowFloats;
      const y = py - k.pt;
      if (y < 0 || y >= k.h || x1 <= x0) {
        f32.fill(0, row, row + rowFloats);
        continue;
      }
      const src = (srcPtr >>> 2) + (((n0 + n) * k.h + y) * k.w + x0) * c;
      f32.fill(0, row, row + left);
      f32.copyWithin(row + left, src, src + (x1 - x0) * c);
      f32.fill(0, row + right, row + rowFloats);
    }
  }
}

/** Calls `run(image, ty, tx, length, k)` for the runs of consecutive tiles along a tile row in tiles [t0, t1) (k = t − t0). */
export function forEachRun(
  t: Tiling,
  t0: number,
  t1: number,
  run: (image: number, ty: number, tx: number, length: number, k: number) => void,
): void {
  for (let at = t0; at < t1;) {
    const image = Math.floor(at / t.perImage);
    const rest = at - image * t.perImage;
    const ty = Math.floor(rest / t.cols);
    const tx = rest - ty * t.cols;
    const length = Math.min(t.cols - tx, t1 - at);
    run(image, ty, tx, length, at - t0);
    at += length;
  }
}

/** Scratch of one block (one thread's): planes V and M or Z (`tiles` rows each), an edge tile, the transforms' scratch tile. */
export interface BlockScratch {
  tiles: number;
  /** Plane strides of V and of M/Z. */
  xiV: number;
  xiM: number;
  v: number;
  m: number;
  stage: number;
  tmp: number;
  bytes: number;
}

/** Row strides of a block's planes: V rows C + 4 floats (rows a power of two apart would share L1 sets), M/Z rows N floats. */
export const ldvOf = (k: Correlation): number => (k.c + 4) * 4;
export const ldmOf = (k: Correlation): number => k.n * 4;

export function blockScratch(base: number, k: Correlation, tiles: number): BlockScratch {
  const xiV = planeStride(tiles, ldvOf(k));
  const xiM = planeStride(tiles, ldmOf(k));
  const sizes = [PLANES * xiV, PLANES * xiM, TILE * TILE * k.n * 4, TRANSFORM_TMP_BYTES];
  const { at, bytes } = regions(base, sizes);
  return { tiles, xiV, xiM, v: at[0]!, m: at[1]!, stage: at[2]!, tmp: at[3]!, bytes };
}

/** Scratch bytes of one block (see {@link blockScratch}). */
export const blockScratchBytes = (k: Correlation, tiles: number): number => blockScratch(0, k, tiles).bytes + 64;

/** Input transform of tiles [t0, t1) of the padded images at xp into the block's V planes (row t − first). */
export function transformWindows(
  h: HeapView,
  k: Correlation,
  t: Tiling,
  xp: number,
  t0: number,
  t1: number,
  s: BlockScratch,
  first = t0,
): void {
  const pix = k.c * 4;
  const rowBytes = t.wp * pix;
  const ldv = ldvOf(k);
  forEachRun(t, t0, t1, (image, ty, tx, length, at) => {
    const src = xp + (image * t.hp + TILE * ty) * rowBytes + TILE * tx * pix;
    h.kernels.w4in(src, rowBytes, pix, k.c / 4, s.v + (at + t0 - first) * ldv, s.xiV, ldv, length, s.tmp);
  });
}
